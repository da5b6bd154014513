import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../contracts/chain.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import { paused, startExecuteHost, type ExecuteTestHost } from './helpers/execute-host.ts';
import { manifest, operation } from './helpers/skill-folder.ts';
import { stampedVersionOf } from '../../../main/policy/pack-version.ts';
import { NO_OPERATION_APPROVALS } from '../../support/test-policy-packs.ts';

/** A pack whose version differs from the default's, so the two cannot be confused. */
const PACK = { ...DEFAULT_POLICY_PACK, id: 'versioned', version: '7.2' };

const SKILL = manifest('envelope', [
  operation('reach', { approval: 'policy', capabilities: ['net.http'] }),
  operation('always', { approval: 'always' }),
  operation('needs', {
    input_schema: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
    },
  }),
  operation('pure'),
]);
const CODE = ['reach', 'always', 'needs', 'pure']
  .map((id) => `export async function ${id}() { return { ran: '${id}' }; }`)
  .join('\n');

/**
 * Issue 17 #17: every entry of a run carries the contract's envelope — the run's session and
 * the version of the run's own policy pack — and an approval request names the gate that asked.
 */
describe('the envelope of a run entry', () => {
  let h: ExecuteTestHost;
  beforeAll(async () => {
    h = await startExecuteHost({ policyPacks: [PACK] });
    await h.install(SKILL, CODE);
  });
  afterAll(async () => {
    await h.stop();
  });

  const entriesOf = async (runId: string): Promise<ChainEntry[]> =>
    (await h.chain()).filter((e) => e.run_id === runId);

  it('carries the run pack version and session on every entry, and each approval request its gate', async () => {
    const run = await h.runningRun(undefined, PACK.id);
    paused(await h.execute(run, 'envelope__reach', {}));
    const again = await h.runningRun(undefined, PACK.id);
    paused(await h.execute(again, 'envelope__needs', {}));
    const pure = await h.runningRun(undefined, PACK.id);
    expect(await h.execute(pure, 'envelope__pure', {})).toMatchObject({ status: 'ok' });

    for (const r of [run, again, pure]) {
      const entries = await entriesOf(r.id);
      expect(entries.length).toBeGreaterThan(1);
      for (const e of entries) {
        expect({
          type: e.event_type,
          version: e.policy_pack_version,
          session: e.session_id,
        }).toEqual({
          type: e.event_type,
          version: stampedVersionOf(PACK),
          session: r.session_id,
        });
      }
    }
    const requests = (await h.chain('approval.request')).filter((e) =>
      [run.id, again.id].includes(e.run_id ?? ''),
    );
    expect(requests.map((e) => [e.run_id, e.rule_id])).toEqual([
      [run.id, 'approval.pack_capabilities'],
      [again.id, 'input.missing_fields'],
    ]);
  });

  it('names the manifest as the gate when only its approval: always asks', async () => {
    const run = await h.runningRun(undefined, 'no-operation-approvals');
    paused(await h.execute(run, 'envelope__always', {}));
    const [request] = (await h.chain('approval.request')).filter((e) => e.run_id === run.id);
    expect(request).toMatchObject({
      rule_id: 'approval.manifest_always',
      session_id: run.session_id,
      policy_pack_version: stampedVersionOf(NO_OPERATION_APPROVALS),
    });
  });
});
