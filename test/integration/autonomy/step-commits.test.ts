import { afterEach, describe, expect, it } from 'vitest';
import type { ChainEventType } from '../../../contracts/chain.ts';
import type { RunSegment } from '../../../main/supervisor/run-segment.ts';
import { hostRunSegment } from '../../support/host-run-segment.ts';
import { countWritingCommits } from '../../support/writing-commits.ts';
import { startGatewayHost, type GatewayTestHost } from '../gateway/helpers/gateway-host.ts';
import {
  doneEntry,
  ECHO_NOTES_DIR,
  startAutonomyHost,
  type AutonomyHost,
} from './helpers/autonomy-host.ts';

const TEST = { actor: 'test' };

/**
 * Issue 18, "the agent step as cheap as LangGraph's": a tool step used to commit three times
 * (the metering transaction, the gate writing the "started" row, the finish). Metering now
 * happens inside the gate: at most two commits for an effectful step (gate + start, finish)
 * and one for a `compute.pure` one, every guarantee kept.
 */
describe('commits per tool step', () => {
  let gw: GatewayTestHost | undefined;
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });

  async function segmentOf(h: GatewayTestHost): Promise<RunSegment> {
    const created = await h.started.runs.create({ goal: 'count commits' }, TEST);
    await h.started.runs.transition(created.id, 'running', TEST);
    return segmentOfRun(h, created.id);
  }

  it('a compute.pure call commits once and an effectful one twice, each metered and recorded', async () => {
    gw = await startGatewayHost();
    await gw.started.skills.install(ECHO_NOTES_DIR, TEST);
    const segment = await segmentOf(gw);
    const commits = countWritingCommits(gw.started.chain);

    const echoed = await segment.callTool('echo-notes__echo', { text: 'hi' }, { callId: 'c1' });
    // The worker is told what the output carries: echo-notes declares no label (unknown).
    expect(echoed).toEqual({
      status: 'ok',
      output: { text: 'hi' },
      label: ['pii.chat.message', 'pii.chat.metadata', 'pii.attachment'],
      taint: 'trusted',
    });
    expect(commits.count()).toBe(1);

    // `recall` reads memory: not pure, so its "started" row is durable before it runs.
    const recalled = await segment.callTool('echo-notes__recall', { key: 'k' }, { callId: 'c2' });
    expect(recalled.status).toBe('ok');
    expect(commits.count()).toBe(1 + 2);

    const run = await gw.started.runs.get((await gw.started.runs.list({ limit: 1 }))[0]?.id ?? '');
    expect(run.usage.steps).toBe(2);
    expect(segment.steps).toBe(2);
    const steps = await gw.started.runs.steps(run.id);
    expect(steps.map((s) => s.outcome)).toEqual(['ok', 'ok']);
    expect(steps.every((s) => s.ended_at !== null)).toBe(true);
  });

  it('a pure call refused by the budget charges nothing and runs nothing', async () => {
    gw = await startGatewayHost();
    await gw.started.skills.install(ECHO_NOTES_DIR, TEST);
    const created = await gw.started.runs.create(
      { goal: 'one step only', budget: { max_steps: 1 } },
      TEST,
    );
    await gw.started.runs.transition(created.id, 'running', TEST);
    const segment = await segmentOfRun(gw, created.id);
    // Two pure calls at once: the held step counts, so only one may pass.
    const [a, b] = await Promise.allSettled([
      segment.callTool('echo-notes__echo', { text: 'a' }, { callId: 'a' }),
      segment.callTool('echo-notes__echo', { text: 'b' }, { callId: 'b' }),
    ]);
    const outcomes = [a, b].map((r) => r.status);
    expect(outcomes.sort()).toEqual(['fulfilled', 'rejected']);
    const run = await gw.started.runs.get(created.id);
    expect(run.usage.steps).toBe(1);
    expect(run.state).toBe('failed');
    expect(run.state_reason).toBe('budget_exceeded:steps');
  });

  async function segmentOfRun(h: GatewayTestHost, runId: string): Promise<RunSegment> {
    return hostRunSegment(h.started, await h.started.runs.get(runId), 10);
  }
});

/**
 * Issue 18, runs per second: a segment's agent token is minted with the segment's start and
 * revoked with its end, not in two commits of its own. A one-step run (a worker that answers
 * at once) commits seven times: create, start (with the token), the LLM call's metering and
 * its record, the checkpoint, the completion, the end (with the revocation).
 */
describe('commits per one-step run', () => {
  let h: AutonomyHost | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('seven commits from create to the closed segment, the token minted and revoked with it', async () => {
    h = await startAutonomyHost({ transcript: { entries: [doneEntry('Done.')] } });
    const commits = countWritingCommits(h.started.chain);
    const created = await h.createRun({ goal: 'one step' });
    const ended = await h.settle(created.id);
    expect(ended.state).toBe('done');
    expect(commits.count()).toBe(7);

    const chain = await h.runChain(created.id);
    const types = chain.map((e) => e.event_type);
    const at = (type: ChainEventType) => types.indexOf(type);
    // Each token event sits in the transaction of the segment event before it.
    expect(at('token.created')).toBe(at('segment.started') + 1);
    expect(at('token.revoked')).toBe(at('segment.ended') + 1);
    const tokenId = chain[at('token.created')]?.data.token_id;
    expect(chain[at('token.revoked')]?.data.token_id).toBe(tokenId);
    const tokens = await h.started.tokens.list({ includeAgentSessions: true });
    expect(tokens.find((t) => t.id === tokenId)?.revoked_at).not.toBeNull();
  });
});
