/**
 * The layers of `main/`, lowest first (docs/architecture.md). A file may import from its own
 * layer and from earlier ones, never from a later one, so the folder graph cannot have a
 * cycle. `eslint.config.js` turns this list into `import-x/no-restricted-paths` zones, and a
 * file under `main/` that no layer covers fails lint until it is classified here.
 *
 * An entry is a folder (with everything under it) or a single file, relative to the
 * repository root. Deliberately a plain list: it is read by lint (through Node's type
 * stripping) as well as by the layering test, so it imports nothing.
 */
export const MAIN_LAYERS: readonly (readonly string[])[] = [
  // Primitives every layer may use.
  [
    'main/layers.ts',
    'main/errors.ts',
    'main/clock.ts',
    'main/instant.ts',
    'main/task-limit.ts',
    'main/disposable.ts',
    'main/actor-context.ts',
    'main/version.ts',
    'main/host-node-flags.ts',
    'main/json-logic.ts',
    'main/write-file-atomically.ts',
    'main/config.ts',
    'main/data-dir-files.ts',
    'main/network-cause.ts',
  ],
  // Durable state and its audit trail.
  ['main/store'],
  ['main/chain'],
  ['main/policy'],
  ['main/auth'],
  // Runs: the state machine, goals, approvals, budgets, checkpoints, completion.
  ['main/runs'],
  // Governed memory: labelled, audienced items; every read and write goes through it.
  ['main/memory'],
  // Schedules: triggers, fires and follow-ups; they start and resume runs.
  ['main/scheduler'],
  // Quarantined raw content, then the transforms that are the only code reading it (metered
  // against a run's budget when they call a model).
  ['main/quarantine'],
  ['main/transforms'],
  // Skills, from what a skill is to installing one.
  ['main/skills/manifest'],
  ['main/skills/sandbox'],
  ['main/skills/package'],
  ['main/skills/bindings'],
  ['main/skills/registry'],
  ['main/skills/onboarding'],
  ['main/skills/declarative'],
  ['main/skills/install'],
  // --- outbox (issue 23) ---
  // Outbound delivery: the outbox a step writes to, the dispatcher and its transports.
  ['main/outbox'],
  // The one door from an agent to a skill.
  ['main/execute'],
  // Agent workers: LLM providers, the channel, the worker program, how it is started.
  ['main/agent/llm'],
  ['main/agent/channel'],
  ['main/agent/worker'],
  ['main/agent/spawn'],
  // Drives runs through workers.
  ['main/supervisor'],
  // Connectors: the record of what each may use (the connectors issue adds adapters).
  ['main/connectors'],
  // The HTTP edge: shared middleware, routes, the assembled server.
  ['main/gateway/shared'],
  ['main/gateway/routes'],
  ['main/gateway/server'],
  ['main/gateway-client'],
  // --- split2 (issue 18) --- The composition root's builders: each group of services, wired.
  ['main/host'],
  // The composition root and the shells.
  ['main/host.ts'],
  ['main/cli'],
  ['main/cli.ts'],
  // The desktop shell: starts the CLI's host as a child process, never imports it.
  ['main/electron'],
  ['main/electron.ts'],
];
