import type { ToolCallOutcome } from '../../../../contracts/agent-channel.ts';
import type { Approval } from '../../../../contracts/approvals.ts';
import type { ChainEntry } from '../../../../contracts/chain.ts';
import type { Run } from '../../../../contracts/runs.ts';
import type { SkillListEntry, SkillManifest } from '../../../../contracts/skills.ts';
import {
  StoreSkillMemory,
  writeSkillMemory,
} from '../../../../main/skills/bindings/store-skill-memory.ts';
import {
  startGatewayHost,
  type ApiResponse,
  type GatewayHostOptions,
  type GatewayTestHost,
} from '../../gateway/helpers/gateway-host.ts';
import { writeSkillFolder } from './skill-folder.ts';

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
  /** A new run in its own session, moved to `running` as a worker segment would. */
  runningRun: (goal?: string) => Promise<Run>;
  /** A paused-then-resumed (`pending`) run picked up again by a worker: back to `running`. */
  resume: (runId: string) => Promise<Run>;
  /** `ccos.skill.execute` as the agent calls it; each call is a new step of the run. */
  execute: (run: Run, tool: string, params: Record<string, unknown>) => Promise<ToolCallOutcome>;
  /** `POST /v1/approvals/{id}` with the admin token. */
  decide: (id: string, body: unknown) => Promise<ApiResponse>;
  approval: (id: string) => Promise<Approval>;
  runState: (runId: string) => Promise<Run['state']>;
  /** Reads the skills' memory table directly (what `ccos.memory.get` would see). */
  memory: StoreSkillMemory;
  /** Puts a memory item in place as a skill's earlier write would have (no run, no audit). */
  seedMemory: (namespace: string, key: string, value: unknown) => Promise<void>;
  /** The `skill.execute` entry of one step. */
  executeEntry: (runId: string, stepId: string) => Promise<ChainEntry>;
  /** The step id the last `execute` used. */
  lastStepId: () => string;
};

export async function startExecuteHost(options: GatewayHostOptions = {}): Promise<ExecuteTestHost> {
  const gw = await startGatewayHost(options);
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
    runningRun: async (goal = 'greet the person who asked') => {
      const run = await started.runs.create({ goal }, { actor: 'admin' });
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
    memory: new StoreSkillMemory({
      db: started.store.db,
      chain: started.chain,
      clock: { now: () => new Date() },
    }),
    seedMemory: (namespace, key, value) =>
      writeSkillMemory(
        started.store.db,
        { namespace, key, value, run_id: null, step_id: null },
        new Date(),
      ),
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

/** What `recordingSkillCode` recorded, oldest first. */
export async function recordedCalls(
  memory: StoreSkillMemory,
  namespace: string,
): Promise<{ op: string; input: Record<string, unknown> }[]> {
  return ((await memory.get(namespace, 'calls')) ?? []) as {
    op: string;
    input: Record<string, unknown>;
  }[];
}
