import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_QUARANTINE_CONTENT_CHARS } from '../../../contracts/quarantine.ts';
import type { Run } from '../../../contracts/runs.ts';
import type { StartedHost } from '../../../main/host.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import { openTestServices, type TestServices } from '../../support/test-store.ts';
import { appErrorCodeOf } from '../../support/app-error-code.ts';

const ADMIN = { actor: 'admin' };
const AGENT = { actor: 'agent:test' };

/**
 * 1 MiB built to make rules work hard: near-miss addresses and phone numbers, handles, dots,
 * unclosed markup, request words, no line breaks.
 */
function hostile(): string {
  const unit =
    'please a.b@c <a href="http://x' + ' 12-34-56 @ab x@y. jan 1 $1, '.repeat(3) + 'a'.repeat(40);
  return unit
    .repeat(Math.ceil(MAX_QUARANTINE_CONTENT_CHARS / unit.length))
    .slice(0, MAX_QUARANTINE_CONTENT_CHARS);
}

/**
 * 1 MiB whose redacted copy is no longer than itself (each address is longer than its
 * placeholder), so the verifier reads a 1 MiB output: quotes broken by an address every few words.
 */
function quotedAddresses(): string {
  const unit =
    'the quarterly budget review moves to thursday mailbox.owner@example.com x@y. 12-34 ';
  return unit
    .repeat(Math.ceil(MAX_QUARANTINE_CONTENT_CHARS / unit.length))
    .slice(0, MAX_QUARANTINE_CONTENT_CHARS);
}

/** Health answers that must all arrive while one transform of 1 MiB runs. */
const HEALTH_CHECKS = 8;

const CAPPED = {
  ...DEFAULT_POLICY_PACK,
  id: 'capped',
  quarantine: { transform_max_input_chars: 1024 },
};
const HURRIED = {
  ...DEFAULT_POLICY_PACK,
  id: 'hurried',
  quarantine: { transform_time_limit_ms: 1 },
};

let t: TestServices;
let host: StartedHost;

beforeAll(async () => {
  t = await openTestServices({ policyPacks: [CAPPED, HURRIED] });
  host = t.host.started;
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

describe('transforms of large hostile input', () => {
  it('leave the gateway answering /v1/health while the rules read 1 MiB', async () => {
    const run = await t.runs.create({ goal: 'digest my messages' }, ADMIN);
    const ref = await stored(run, hostile());
    let transformDone = false;
    const answeredBefore: boolean[] = [];
    // From the moment the content is read (the rules start on it next), health is asked in
    // turn; on the event loop, not one answer could arrive until the rules finish.
    const healthChecks = new Promise<void>((resolve, reject) => {
      const subscription = t.chain.subscribe((entries) => {
        if (!entries.some((e) => e.event_type === 'quarantine.access' && e.run_id === run.id))
          return;
        void subscription.dispose();
        void (async () => {
          for (let i = 0; i < HEALTH_CHECKS; i++) {
            const res = await fetch(`${host.gateway.url}/v1/health`);
            expect(res.status).toBe(200);
            answeredBefore.push(!transformDone);
          }
        })().then(resolve, reject);
      });
    });
    const result = await host.transforms
      .run(
        'summarize',
        { content_ref: ref, justification: 'j' },
        { run, step_id: 's1', ctx: AGENT },
      )
      .finally(() => {
        transformDone = true;
      });
    await healthChecks;
    expect(result.ok).toBe(true);
    expect(answeredBefore).toEqual(Array<boolean>(HEALTH_CHECKS).fill(true));
  });

  it('verifies a 1 MiB redacted copy full of near misses to a bounded failing verdict', async () => {
    const run = await t.runs.create({ goal: 'digest my messages' }, ADMIN);
    const ref = await stored(run, quotedAddresses());
    const call = { run, step_id: 's2', ctx: AGENT };
    const made = await host.transforms.run(
      'redact',
      { content_ref: ref, justification: 'j' },
      call,
    );
    if (!made.ok) throw new Error(made.refused);
    const id = (made.value as { transform_output_id: string }).transform_output_id;
    const verdict = await host.transforms.verify(
      { transform_output_id: id, justification: 'j' },
      call,
    );
    if (!verdict.ok) throw new Error(verdict.refused);
    const value = verdict.value as { ok: boolean; issues: unknown[] };
    expect(value.ok).toBe(false);
    expect(value.issues.length).toBeGreaterThan(0);
    expect(value.issues.length).toBeLessThanOrEqual(100);
  });

  it('refuses content over the pack input cap with TRANSFORM_INPUT_TOO_LARGE, on the chain', async () => {
    const run = await t.runs.create({ goal: 'g', policy_pack: 'capped' }, ADMIN);
    const ref = await stored(run, 'word '.repeat(205));
    const call = { run, step_id: 's3', ctx: AGENT };
    expect(
      await appErrorCodeOf(
        host.transforms.run('summarize', { content_ref: ref, justification: 'j' }, call),
      ),
    ).toBe('TRANSFORM_INPUT_TOO_LARGE');
    const small = await stored(run, 'word '.repeat(204));
    const fits = await host.transforms.run(
      'summarize',
      { content_ref: small, justification: 'j' },
      call,
    );
    expect(fits.ok).toBe(true);
    const denials = (await t.chain.query({ event_type: 'policy.decision', run_id: run.id }))
      .entries;
    expect(denials.map((e) => [e.rule_id, e.data.chars, e.data.limit])).toEqual([
      ['transform.input_too_large', 1025, 1024],
    ]);
  });

  it('stops a transform past the pack time limit with TRANSFORM_TIME_LIMIT, on the chain', async () => {
    const run = await t.runs.create({ goal: 'g', policy_pack: 'hurried' }, ADMIN);
    const ref = await stored(run, hostile());
    const call = { run, step_id: 's4', ctx: AGENT };
    expect(
      await appErrorCodeOf(
        host.transforms.run('summarize', { content_ref: ref, justification: 'j' }, call),
      ),
    ).toBe('TRANSFORM_TIME_LIMIT');
    const denials = (await t.chain.query({ event_type: 'policy.decision', run_id: run.id }))
      .entries;
    expect(denials.map((e) => [e.rule_id, e.capability_id, e.data.time_limit_ms])).toEqual([
      ['transform.time_limit', 'ccos.transform.summarize', 1],
    ]);
    // Nothing was stored for a transform that did not finish.
    const outputs = (await t.chain.query({ event_type: 'transform.output', run_id: run.id }))
      .entries;
    expect(outputs).toEqual([]);
  });
});
