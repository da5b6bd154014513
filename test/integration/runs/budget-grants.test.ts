import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHostConfig } from '../../../main/config.ts';
import { Host, type StartedHost } from '../../../main/host.ts';
import { DEFAULT_POLICY_PACK, PolicyPacks } from '../../../main/policy/policy-packs.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { testHostEnv } from '../../support/test-host-env.ts';

const ACTOR = { actor: 'test' };

/**
 * A budget extension is a grant a person approves; it may be narrowed but never turned
 * into another kind of budget, nor lift a run above the hard ceilings (no run unbounded).
 */
describe('budget grants', () => {
  let host: Host | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    await host?.stop();
    if (dataDir !== undefined) await removeTempDir(dataDir);
  });

  async function pausedOnSteps(): Promise<{
    started: StartedHost;
    runId: string;
    approvalId: string;
  }> {
    dataDir = await makeTempDir('ccos-grants-');
    host = new Host(
      parseHostConfig(
        {
          data_dir: dataDir,
          gateway: { host: '127.0.0.1', port: 0, allow_non_loopback: false },
          log_level: 'silent',
        },
        testHostEnv(),
      ),
      {
        logger: pino({ level: 'silent' }),
        policyPacks: [{ ...DEFAULT_POLICY_PACK, id: 'ask', budget_on_exceed: 'approval' }],
      },
    );
    const started = await host.start();
    const run = await started.runs.create(
      { goal: 'spend', policy_pack: 'ask', budget: { max_steps: 4 } },
      ACTOR,
    );
    await started.runs.transition(run.id, 'running', ACTOR);
    const running = await started.runs.get(run.id);
    await started.chain.transact((tx) =>
      started.meter.overrunIn(tx, running, { kind: 'steps', limit: 4, used: 4 }, ACTOR),
    );
    const [approval] = await started.approvals.list({ run_id: run.id, state: 'pending' });
    if (approval === undefined) throw new Error('no budget approval');
    expect(approval).toMatchObject({ kind: 'budget', scope: 'steps:+2' });
    return { started, runId: run.id, approvalId: approval.id };
  }

  it('refuses a modified scope of another kind, and changes nothing', async () => {
    const { started, runId, approvalId } = await pausedOnSteps();
    await expect(
      started.approvals.decide(approvalId, { decision: 'modify', scope: 'tokens:+500' }, ACTOR),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect((await started.approvals.get(approvalId)).state).toBe('pending');
    expect((await started.runs.get(runId)).state).toBe('paused_approval');
  });

  it('refuses a grant above the hard ceiling', async () => {
    const { started, approvalId } = await pausedOnSteps();
    await expect(
      started.approvals.decide(
        approvalId,
        { decision: 'modify', scope: 'steps:+9999999999' },
        ACTOR,
      ),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect((await started.approvals.get(approvalId)).state).toBe('pending');
  });

  it('grants a narrowed extension on top of the unchanged budget', async () => {
    const { started, runId, approvalId } = await pausedOnSteps();
    const { run } = await started.approvals.decide(
      approvalId,
      { decision: 'modify', scope: 'steps:+1' },
      ACTOR,
    );
    expect(run.state).toBe('pending');
    expect(run.budget.max_steps).toBe(4);
    const limits = await started.chain.transact((tx) => started.meter.limitsIn(tx, run));
    expect(limits.steps).toBe(5);
    const granted = await started.chain.query({ run_id: runId, event_type: 'budget.granted' });
    expect(granted.entries.map((e) => e.data)).toEqual([
      { approval_id: approvalId, kind: 'steps', amount: 1 },
    ]);
  });
});

describe('PolicyPacks', () => {
  it('refuses a malformed pack from settings, naming the field', () => {
    expect(
      () => new PolicyPacks([{ ...DEFAULT_POLICY_PACK, id: 'bad', segment_max_steps: 0 }]),
    ).toThrow(/segment_max_steps/);
  });
});
