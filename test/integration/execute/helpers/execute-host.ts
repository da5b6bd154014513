import type { ToolCallOutcome } from '../../../../contracts/agent-channel.ts';
import type { Approval } from '../../../../contracts/approvals.ts';
import type { ChainEntry } from '../../../../contracts/chain.ts';
import type { Run } from '../../../../contracts/runs.ts';
import type { SkillListEntry, SkillManifest } from '../../../../contracts/skills.ts';
import { writeSkillMemoryIn } from '../../../../main/skills/bindings/store-skill-memory.ts';
import { skillMemoryNamespace } from '../../../../main/runs/skill-memory-namespace.ts';
import { label } from '../../../../main/policy/labels.ts';
import {
  startGatewayHost,
  type ApiResponse,
  type GatewayHostOptions,
  type GatewayTestHost,
} from '../../gateway/helpers/gateway-host.ts';
import { NO_OPERATION_APPROVALS } from '../../../support/test-policy-packs.ts';
import { writeSkillFolder } from './skill-folder.ts';

/** A skill's memory as a test reads and seeds it. */
export type MemoryView = {
  get: (namespace: string, key: string) => Promise<unknown>;
  /**
   * The values of every item under the key, oldest first: a skill's items written in runs
   * belong to each run's session (governed memory), so one key holds one item per session.
   */
  getAll: (namespace: string, key: string) => Promise<unknown[]>;
  put: (namespace: string, key: string, value: unknown) => Promise<void>;
};

/** The agent's side of the tests: what a worker would do, without the worker. */
export const AGENT = { actor: 'agent:test' };

/**
 * A real host (gateway on 127.0.0.1, real SQLite, real isolates) plus the few moves the
 * execute tests make: install a skill through the API, start a run, call a tool as the
 * agent, decide an approval through the API, and read skill memory and chain entries.
 */
export type ExecuteTestHost = GatewayTestHost & {
  /** Writes the skill to a temporary folder and installs it with `POST /v1/skills`. */
  install: (skill: SkillManifest, code: string) => Promise<SkillListEntry>;
  /** A new run in its own session (under `policyPack`, default the default pack), moved to `running` as a worker segment would. */
  runningRun: (goal?: string, policyPack?: string) => Promise<Run>;
  /** A paused-then-resumed (`pending`) run picked up again by a worker: back to `running`. */
  resume: (runId: string) => Promise<Run>;
  /** `ccos.skill.execute` as the agent calls it; each call is a new step of the run. */
  execute: (run: Run, tool: string, params: Record<string, unknown>) => Promise<ToolCallOutcome>;
  /** `POST /v1/approvals/{id}` with the admin token. */
  decide: (id: string, body: unknown) => Promise<ApiResponse>;
  approval: (id: string) => Promise<Approval>;
  runState: (runId: string) => Promise<Run['state']>;
  /** One skill's memory, read and written directly (what its `ccos.memory` sees). */
  skillMemory: (skillId: string) => MemoryView;
  /** Writes a namespace of the person's own (e.g. `profile`), which autofill may read. */
  putSharedMemory: (namespace: string, key: string, value: unknown) => Promise<void>;
  /** The `skill.execute` entry of one step. */
  executeEntry: (runId: string, stepId: string) => Promise<ChainEntry>;
  /** The step id the last `execute` used. */
  lastStepId: () => string;
};

/** Always registered besides `options.policyPacks`: see `NO_OPERATION_APPROVALS`. */
export async function startExecuteHost(options: GatewayHostOptions = {}): Promise<ExecuteTestHost> {
  const gw = await startGatewayHost({
    ...options,
    policyPacks: [NO_OPERATION_APPROVALS, ...(options.policyPacks ?? [])],
  });
  const { started } = gw;
  let steps = 0;
  let lastStep = '';
  return {
    ...gw,
    install: async (skill, code) => {
      const folder = await writeSkillFolder(skill, code);
      try {
        const res = await gw.request('POST', '/v1/skills', { json: { path: folder.dir } });
        if (res.status !== 201) throw new Error(`install failed: ${res.status} ${res.text}`);
        return (res.body as { skill: SkillListEntry }).skill;
      } finally {
        // The host keeps its own copy of what it installed.
        await folder.cleanup();
      }
    },
    runningRun: async (goal = 'greet the person who asked', policyPack?: string) => {
      const run = await started.runs.create(
        { goal, ...(policyPack === undefined ? {} : { policy_pack: policyPack }) },
        { actor: 'admin' },
      );
      return started.runs.transition(run.id, 'running', { ...AGENT, reason: 'segment started' });
    },
    resume: (runId) =>
      started.runs.transition(runId, 'running', { ...AGENT, reason: 'segment started' }),
    execute: (run, tool, params) => {
      steps += 1;
      lastStep = `step_${String(steps).padStart(4, '0')}`;
      return started.pipeline.execute({
        run,
        step_id: lastStep,
        segment: 0,
        tool,
        params,
        ctx: AGENT,
      });
    },
    decide: (id, body) => gw.request('POST', `/v1/approvals/${id}`, { json: body }),
    approval: (id) => started.approvals.get(id),
    runState: async (runId) => (await started.runs.get(runId)).state,
    skillMemory: (skillId) => {
      const owner = { skill_id: skillId, version: '0.0.0-test' };
      return {
        // Every item of the namespace, whichever audience it has: what the person sees.
        get: async (namespace, key) => {
          const items = await started.memory.listAll({
            namespace: skillMemoryNamespace(skillId, namespace),
            limit: 500,
          });
          return items.find((i) => i.key === key)?.value ?? null;
        },
        getAll: async (namespace, key) => {
          const items = await started.memory.listAll({
            namespace: skillMemoryNamespace(skillId, namespace),
            limit: 500,
          });
          return items
            .filter((i) => i.key === key)
            .sort((a, b) => a.created_at.localeCompare(b.created_at))
            .map((i) => i.value);
        },
        // As a skill's earlier write outside any run (onboarding) would have put it.
        put: async (namespace, key, value) => {
          const outcome = await started.chain.transact((tx) =>
            writeSkillMemoryIn(
              tx,
              started.memory,
              owner,
              { namespace, key, value, run_id: null, step_id: null, taint: 'untrusted' },
              null,
              { actor: 'test' },
            ),
          );
          if (!outcome.ok) throw outcome.error;
        },
      };
    },
    putSharedMemory: async (namespace, key, value) => {
      const outcome = await started.chain.transact((tx) =>
        started.memory.writeIn(
          tx,
          {
            namespace,
            key,
            value,
            label: label('pii.redacted'),
            taint: 'trusted',
            source: { kind: 'person', id: 'test', version: null },
            run_id: null,
            step_id: null,
            session_id: null,
            audience: 'namespace',
            audience_id: '',
            expires_at: null,
          },
          { actor: 'person:test' },
        ),
      );
      if (!outcome.ok) throw outcome.error;
    },
    executeEntry: async (runId, stepId) => {
      const entries = await gw.chain('skill.execute');
      const entry = entries.find((e) => e.run_id === runId && e.step_id === stepId);
      if (entry === undefined) throw new Error(`no skill.execute entry for ${runId}/${stepId}`);
      return entry;
    },
    lastStepId: () => lastStep,
  };
}

/** Narrows an outcome to a pause, or fails the test saying what came back instead. */
export function paused(outcome: ToolCallOutcome): Extract<ToolCallOutcome, { status: 'paused' }> {
  if (outcome.status !== 'paused')
    throw new Error(`expected paused, got ${JSON.stringify(outcome)}`);
  return outcome;
}

/**
 * What an operation running `recordingSkillCode` must declare: the bindings refuse memory
 * to an operation without these (issue 17 #2).
 */
export const RECORDING_CAPABILITIES = ['memory.read', 'memory.write'];

/** Skill code that appends each input it runs with to `<namespace>/calls` in its memory. */
export function recordingSkillCode(namespace: string, operationIds: readonly string[]): string {
  return operationIds
    .map(
      (id) => `export async function ${id}(input) {
  const calls = (await ccos.memory.get('${namespace}', 'calls')) ?? [];
  calls.push({ op: '${id}', input });
  await ccos.memory.put('${namespace}', 'calls', calls);
  return { ran: '${id}', input };
}
`,
    )
    .join('\n');
}

/** What `recordingSkillCode` recorded in every session, oldest first. */
export async function recordedCalls(
  memory: MemoryView,
  namespace: string,
): Promise<{ op: string; input: Record<string, unknown> }[]> {
  // Each session's runs keep their own list; together they are every call, oldest first.
  return (await memory.getAll(namespace, 'calls')).flat() as {
    op: string;
    input: Record<string, unknown>;
  }[];
}
