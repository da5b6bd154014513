import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarizeOutputSchema } from '../../../contracts/transforms.ts';
import type { Run } from '../../../contracts/runs.ts';
import { canonicalJson } from '../../../main/chain/canonical-json.ts';
import type { StartedHost } from '../../../main/host.ts';
import { openTestServices, type TestServices } from '../../support/test-store.ts';

const ADMIN = { actor: 'admin' };
const AGENT = { actor: 'agent:test' };
const CANARY = `canary-${randomBytes(12).toString('hex')}`;

let t: TestServices;
let host: StartedHost;

beforeAll(async () => {
  t = await openTestServices();
  host = t.host.started;
  await host.secrets.set('CANARY_TOKEN', CANARY, ADMIN);
});
afterAll(async () => {
  await t.close();
});

async function stored(run: Run, content: string): Promise<string> {
  const { content_ref } = await host.quarantine.ingest(
    { session_id: run.session_id, sender_id: 'U0451XQ', channel_id: 'C-ops', content },
    { actor: 'connector:test' },
  );
  return content_ref;
}

describe('transform service', () => {
  it('summarizes into a schema-checked pii.redacted output named on the chain by its digest', async () => {
    const run = await t.runs.create({ goal: 'digest my messages' }, ADMIN);
    const ref = await stored(
      run,
      `Could you please renew the staging certificate today? Use token ${CANARY} and tell @ops_lead.`,
    );
    const result = await host.transforms.run(
      'summarize',
      { content_ref: ref, justification: 'the person asked for a digest' },
      { run, step_id: 'step_1', ctx: AGENT },
    );
    if (!result.ok) throw new Error(result.refused);
    const value = result.value as { transform_output_id: string; label: string; output: unknown };
    expect(value.label).toBe('pii.redacted');
    const output = summarizeOutputSchema.parse(value.output);
    expect(output.tasks).toEqual(['request: renew, staging, certificate']);
    const shown = JSON.stringify(value);
    expect(shown).not.toContain(CANARY);
    expect(shown).not.toContain('@ops_lead');

    const [access] = (await t.chain.query({ event_type: 'quarantine.access' })).entries;
    expect(access).toMatchObject({ capability_id: 'ccos.transform.summarize', run_id: run.id });
    const [out] = (await t.chain.query({ event_type: 'transform.output' })).entries;
    expect(out).toMatchObject({
      capability_id: 'ccos.transform.summarize',
      data: {
        content_ref: ref,
        transform_output_id: value.transform_output_id,
        label: 'pii.redacted',
        output_digest: createHash('sha256').update(canonicalJson(output)).digest('hex'),
      },
    });
    const chain = JSON.stringify((await t.chain.query({ limit: 1000 })).entries);
    expect(chain).not.toContain('certificate');
    expect(chain).not.toContain(CANARY);
  });

  it('verifies a summary as passing and a redacted copy as failing, on their exact bytes', async () => {
    const run = await t.runs.create({ goal: 'digest my messages' }, ADMIN);
    const ref = await stored(
      run,
      'The quarterly budget review moves to Thursday afternoon because the auditor is travelling this week.',
    );
    const call = { run, step_id: 'step_2', ctx: AGENT };
    const verdict = async (kind: 'summarize' | 'redact') => {
      const made = await host.transforms.run(kind, { content_ref: ref, justification: 'j' }, call);
      if (!made.ok) throw new Error(made.refused);
      const id = (made.value as { transform_output_id: string }).transform_output_id;
      const checked = await host.transforms.verify(
        { transform_output_id: id, justification: 'j' },
        call,
      );
      if (!checked.ok) throw new Error(checked.refused);
      return checked.value as { ok: boolean; issues: { code: string }[] };
    };
    expect(await verdict('summarize')).toMatchObject({ ok: true, issues: [] });
    const redacted = await verdict('redact');
    expect(redacted.ok).toBe(false);
    expect(redacted.issues.map((i) => i.code)).toEqual(['verbatim_quote']);
    const checks = (
      await t.chain.query({ event_type: 'transform.output', run_id: run.id })
    ).entries.filter((e) => e.capability_id === 'ccos.transform.verify');
    expect(checks.map((e) => e.data.ok)).toEqual([true, false]);
  });
});
