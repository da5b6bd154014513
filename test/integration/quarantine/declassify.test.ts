import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolCallOutcome } from '../../../contracts/agent-channel.ts';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { Run } from '../../../contracts/runs.ts';
import { hashCall } from '../../../main/execute/call-outcome.ts';
import {
  DECLASSIFY_TOOL,
  TRANSFORM_TOOLS,
  VERIFY_TOOL,
} from '../../../main/skills/manifest/builtin-tools.ts';
import { rawSql } from '../../support/raw-sqlite.ts';
import { paused, startExecuteHost, type ExecuteTestHost } from '../execute/helpers/execute-host.ts';

const MESSAGE =
  'The quarterly budget review moves to Thursday afternoon because the auditor is travelling this week. Could you please tell the finance team?';

let h: ExecuteTestHost;

beforeAll(async () => {
  h = await startExecuteHost();
});
afterAll(async () => {
  await h.stop();
});

function okOutput(outcome: ToolCallOutcome): Record<string, unknown> {
  if (outcome.status !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(outcome)}`);
  return outcome.output as Record<string, unknown>;
}

/** A run with one quarantined message and one transform output of it; `verify` runs the verifier. */
async function outputOf(
  kind: 'summarize' | 'redact',
  verify: boolean,
  content = MESSAGE,
): Promise<{ run: Run; id: string; params: Record<string, unknown> }> {
  const run = await h.runningRun();
  const { content_ref } = await h.started.quarantine.ingest(
    { session_id: run.session_id, sender_id: 'U0451XQ', channel_id: 'C-ops', content },
    { actor: 'connector:test' },
  );
  const made = okOutput(
    await h.execute(run, TRANSFORM_TOOLS[kind], { content_ref, justification: 'digest' }),
  );
  const id = made.transform_output_id as string;
  if (verify)
    await h.execute(run, VERIFY_TOOL, { transform_output_id: id, justification: 'check' });
  return {
    run,
    id,
    params: { transform_output_id: id, justification: 'post it to the team board' },
  };
}

async function runEntries(runId: string): Promise<ChainEntry[]> {
  return (await h.started.chain.query({ run_id: runId, limit: 1000 })).entries;
}
const released = (entries: ChainEntry[]) =>
  entries.filter(
    (e) => e.event_type === 'transform.output' && e.capability_id === 'ccos.declassify',
  );
const denials = (entries: ChainEntry[]) =>
  entries.filter((e) => e.event_type === 'policy.decision').map((e) => e.rule_id);

describe('ccos__declassify', () => {
  it('refuses an output the verifier never passed, asking no one', async () => {
    const { run, params } = await outputOf('summarize', false);
    const outcome = await h.execute(run, DECLASSIFY_TOOL, params);
    expect(outcome).toMatchObject({ status: 'refused' });
    expect((outcome as { reason: string }).reason).toContain('has not run');
    expect(await h.started.approvals.list({ run_id: run.id })).toEqual([]);
    const entries = await runEntries(run.id);
    expect(denials(entries)).toEqual(['declassify.verifier']);
    expect(released(entries)).toEqual([]);
  });

  it('refuses an output the verifier failed (a redacted copy quotes its source)', async () => {
    const { run, params } = await outputOf('redact', true);
    const outcome = await h.execute(run, DECLASSIFY_TOOL, params);
    expect((outcome as { reason: string }).reason).toContain('failed');
    expect(denials(await runEntries(run.id))).toEqual(['declassify.verifier']);
  });

  it('with the verifier’s pass but no approval, pauses on a declassify approval and releases nothing; a denial refuses', async () => {
    const { run, id, params } = await outputOf('summarize', true);
    const asked = paused(await h.execute(run, DECLASSIFY_TOOL, params));
    expect(await h.runState(run.id)).toBe('paused_approval');
    const approval = await h.approval(asked.approval_id);
    expect(approval).toMatchObject({
      kind: 'declassify',
      scope: id,
      permission_diff: [{ permission: `label of ${id}`, from: 'pii.redacted', to: 'public' }],
      request: { tool: DECLASSIFY_TOOL, transform_output_id: id },
    });
    expect(approval.request.output_digest).toMatch(/^[0-9a-f]{64}$/);
    expect(released(await runEntries(run.id))).toEqual([]);

    expect((await h.decide(approval.id, { decision: 'deny' })).status).toBe(200);
    const resumed = await h.resume(run.id);
    const refused = await h.execute(resumed, DECLASSIFY_TOOL, params);
    expect(refused).toMatchObject({ status: 'refused' });
    const entries = await runEntries(run.id);
    expect(denials(entries)).toEqual(['declassify.approval']);
    expect(released(entries)).toEqual([]);
  });

  it('with the verifier’s pass and an approval, releases exactly those bytes as public, once', async () => {
    const { run, id, params } = await outputOf('summarize', true);
    const asked = paused(await h.execute(run, DECLASSIFY_TOOL, params));
    expect((await h.decide(asked.approval_id, { decision: 'approve' })).status).toBe(200);
    const resumed = await h.resume(run.id);
    const outcome = okOutput(await h.execute(resumed, DECLASSIFY_TOOL, params));
    expect(outcome).toMatchObject({ transform_output_id: id, label: 'public', taint: 'untrusted' });
    expect(outcome.output).toMatchObject({
      summary: expect.stringMatching(/^A message of/) as unknown,
    });
    const [release] = released(await runEntries(run.id));
    expect(release).toMatchObject({
      capability_id: 'ccos.declassify',
      rule_id: 'declassify.released',
      data: {
        transform_output_id: id,
        declassified_from: 'pii.redacted',
        approval_id: asked.approval_id,
        output_digest: (await h.approval(asked.approval_id)).request.output_digest,
      },
    });
    // The approval is spent: the next call asks again.
    expect((await h.execute(resumed, DECLASSIFY_TOOL, params)).status).toBe('paused');
  });

  it('approval alone releases nothing: an approved request for an unverified output is refused', async () => {
    const { run, id, params } = await outputOf('summarize', false);
    // As if a person approved this very call (same run, same match key) before any verifier run.
    const approval = await h.started.chain.transact((tx) =>
      h.started.approvals.requestIn(
        tx,
        {
          run_id: run.id,
          step_id: 'step_x',
          kind: 'declassify',
          scope: id,
          justification: 'j',
          permission_diff: [],
          request: { tool: DECLASSIFY_TOOL, transform_output_id: id },
          match_key: hashCall(DECLASSIFY_TOOL, params),
          rule_id: 'declassify.approval',
        },
        { actor: 'test' },
      ),
    );
    expect((await h.decide(approval.id, { decision: 'approve' })).status).toBe(200);
    const outcome = await h.execute(run, DECLASSIFY_TOOL, params);
    expect(outcome).toMatchObject({ status: 'refused' });
    const entries = await runEntries(run.id);
    expect(denials(entries)).toEqual(['declassify.verifier']);
    expect(released(entries)).toEqual([]);
    // Spent by the refusal: it cannot be saved up for later.
    expect((await h.approval(approval.id)).consumed_at).not.toBeNull();
  });

  it('binds the verifier’s pass to the digest: a pass recorded for other bytes releases nothing', async () => {
    const passed = await outputOf('summarize', true);
    // Another message, so other bytes (the same message would summarize to the same digest).
    const other = await outputOf('summarize', false, 'Lunch with the design team moved to Friday.');
    // Someone with the database file copies a pass onto an output the verifier never saw.
    await rawSql(
      h.databaseFile,
      `update transform_outputs set (verified_digest, verification) =
        (select verified_digest, verification from transform_outputs where id = ?) where id = ?`,
      [passed.id, other.id],
    );
    const outcome = await h.execute(other.run, DECLASSIFY_TOOL, other.params);
    expect((outcome as { reason: string }).reason).toContain('other bytes');
    expect(denials(await runEntries(other.run.id))).toEqual(['declassify.verifier']);
    expect(await h.started.approvals.list({ run_id: other.run.id })).toEqual([]);
  });
});
