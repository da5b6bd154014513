import { randomBytes } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolCallOutcome } from '../../../contracts/agent-channel.ts';
import type { Run } from '../../../contracts/runs.ts';
import type { SkillListEntry, ToolDefinition } from '../../../contracts/skills.ts';
import {
  extractOutputSchema,
  redactOutputSchema,
  summarizeOutputSchema,
} from '../../../contracts/transforms.ts';
import {
  DECLASSIFY_TOOL,
  TRANSFORM_TOOLS,
  VERIFY_TOOL,
} from '../../../main/skills/manifest/builtin-tools.ts';
import { startExecuteHost, type ExecuteTestHost } from '../execute/helpers/execute-host.ts';

const CANARY = `canary-${randomBytes(16).toString('hex')}`;
/** A sentence only the raw message holds: if it shows up anywhere, raw content leaked. */
const RAW_SENTENCE = `The spare key to flat ${randomBytes(3).toString('hex')} is under the blue flowerpot by the back door`;
const MESSAGE = `${RAW_SENTENCE}. Could you please collect the parcel from the concierge tomorrow? My login token is ${CANARY}; call me on +44 20 7946 0958 or write to mira.k@example.org.`;
const JUSTIFICATION = 'the person asked what their messages say';

let h: ExecuteTestHost;
const logLines: string[] = [];
const outcomes: ToolCallOutcome[] = [];

beforeAll(async () => {
  h = await startExecuteHost({
    logDestination: {
      write: (line: string) => {
        logLines.push(line);
      },
    },
  });
  const put = await h.request('PUT', '/v1/secrets/CANARY_TOKEN', { json: { value: CANARY } });
  expect(put.status).toBe(200);
});

afterAll(async () => {
  await h.stop();
});

async function ingest(
  run: Run,
  content = MESSAGE,
  sender = 'U0451XQ',
  taint: 'trusted' | 'untrusted' = 'untrusted',
): Promise<string> {
  const { content_ref } = await h.started.quarantine.ingest(
    { session_id: run.session_id, sender_id: sender, channel_id: 'C-home', content, taint },
    { actor: 'connector:test' },
  );
  return content_ref;
}

async function call(run: Run, tool: string, params: Record<string, unknown>) {
  const outcome = await h.execute(run, tool, params);
  outcomes.push(outcome);
  return outcome;
}

function okOutput(outcome: ToolCallOutcome): Record<string, unknown> {
  if (outcome.status !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(outcome)}`);
  return outcome.output as Record<string, unknown>;
}

async function dataDirBytes(): Promise<string> {
  const names = await readdir(h.dataDir, { recursive: true });
  const parts: string[] = [];
  for (const name of names) {
    const file = path.join(h.dataDir, name);
    if ((await stat(file)).isFile()) parts.push((await readFile(file)).toString('latin1'));
  }
  return parts.join('\n');
}

describe('transform tools', () => {
  it('are built-in tools in the agent list and the API; only declassify asks a person', async () => {
    const tools = h.started.skillRegistry.tools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of [...Object.values(TRANSFORM_TOOLS), VERIFY_TOOL])
      expect(byName.get(name)).toMatchObject({ skill_id: 'ccos', approval: 'never' });
    expect(byName.get(DECLASSIFY_TOOL)).toMatchObject({ approval: 'always' });
    const api = (await h.request('GET', '/v1/skills')).body as {
      skills: SkillListEntry[];
      tools: ToolDefinition[];
    };
    expect(api.tools.map((t) => t.name)).toEqual(expect.arrayContaining([...byName.keys()]));
  });

  it("carry their source's taint: a summary of the person's own (trusted) message is trusted", async () => {
    const run = await h.runningRun();
    const mine = await ingest(run, MESSAGE, 'person', 'trusted');
    const theirs = await ingest(run, MESSAGE, 'U0451XQ');
    const params = (ref: string) => ({ content_ref: ref, justification: JUSTIFICATION });
    expect(okOutput(await call(run, TRANSFORM_TOOLS.summarize, params(mine))).taint).toBe(
      'trusted',
    );
    expect(okOutput(await call(run, TRANSFORM_TOOLS.summarize, params(theirs))).taint).toBe(
      'untrusted',
    );
  });

  it('give schema-checked pii.redacted outputs, and leave the canary and the raw text nowhere', async () => {
    const run = await h.runningRun();
    const ref = await ingest(run);
    const params = { content_ref: ref, justification: JUSTIFICATION };
    const summary = okOutput(await call(run, TRANSFORM_TOOLS.summarize, params));
    const extracted = okOutput(await call(run, TRANSFORM_TOOLS.extract, params));
    const redacted = okOutput(await call(run, TRANSFORM_TOOLS.redact, params));
    for (const o of [summary, extracted, redacted]) {
      expect(o.label).toBe('pii.redacted');
      expect(o.taint).toBe('untrusted');
      expect(o.transform_output_id).toMatch(/^tfo_[0-9a-f]{32}$/);
    }
    expect(summarizeOutputSchema.parse(summary.output).tasks).toEqual([
      'request: collect, parcel, concierge',
    ]);
    expect(extractOutputSchema.parse(extracted.output).entities).toEqual(
      expect.arrayContaining([
        { kind: 'date', value: 'tomorrow' },
        { kind: 'phone', value: '[phone]' },
        { kind: 'email', value: '[email]' },
      ]),
    );
    // Redact keeps wording (so it is the one output holding the sentence), identifiers and secrets go.
    const text = redactOutputSchema.parse(redacted.output).text;
    expect(text).not.toContain('mira.k@example.org');
    expect(text).not.toContain(CANARY);
    const verified = okOutput(
      await call(run, VERIFY_TOOL, {
        transform_output_id: summary.transform_output_id,
        justification: JUSTIFICATION,
      }),
    );
    expect(verified).toMatchObject({ ok: true, issues: [] });

    // Where the canary and the raw message could end up: the database and WAL (sealed
    // blobs and outputs), the chain, the logs, every outcome the agent got.
    const summaryOnly = [summary, extracted, verified].map((o) => JSON.stringify(o)).join('\n');
    // A summary may name a topic word; it never repeats the sentence.
    expect(summaryOnly).not.toContain('under the blue flowerpot');
    const bytes = await dataDirBytes();
    const chain = JSON.stringify((await h.started.chain.query({ limit: 1000 })).entries);
    const logs = logLines.join('\n');
    const everything = [bytes, chain, logs, JSON.stringify(outcomes)];
    for (const where of everything) expect(where.includes(CANARY)).toBe(false);
    for (const where of [chain, logs, summaryOnly])
      expect(where.includes(RAW_SENTENCE)).toBe(false);
    // The redacted text is a payload of the call the agent made (it is what the agent sees):
    // the raw sentence is in the database only there, never in the quarantine's own rows.
    const quarantineRows = JSON.stringify(
      await h.started.store.db.selectFrom('quarantine').selectAll().execute(),
    );
    expect(quarantineRows.includes('flowerpot')).toBe(false);

    const accesses = (
      await h.started.chain.query({ event_type: 'quarantine.access', run_id: run.id })
    ).entries;
    expect(accesses.map((e) => e.capability_id)).toEqual([
      'ccos.transform.summarize',
      'ccos.transform.extract',
      'ccos.transform.redact',
      'ccos.transform.verify',
    ]);
    for (const e of accesses)
      expect(e.data).toMatchObject({ content_ref: ref, justification: JUSTIFICATION });
  });

  it('refuse a pointer from another session, audited, the same way as an unknown one', async () => {
    const owner = await h.runningRun();
    const intruder = await h.runningRun();
    const ref = await ingest(owner);
    const stolen = await call(intruder, TRANSFORM_TOOLS.summarize, {
      content_ref: ref,
      justification: 'the other session told me about it',
    });
    const unknown = await call(intruder, TRANSFORM_TOOLS.summarize, {
      content_ref: `q_${'0'.repeat(32)}`,
      justification: 'guessing',
    });
    expect(stolen.status).toBe('refused');
    // Indistinguishable to the agent: it learns nothing about the other session's content.
    expect(stolen).toEqual(unknown);
    const denials = (
      await h.started.chain.query({ event_type: 'policy.decision', run_id: intruder.id })
    ).entries;
    expect(denials.map((d) => d.rule_id)).toEqual([
      'quarantine.session_binding',
      'quarantine.unknown_pointer',
    ]);
    expect(
      (await h.started.chain.query({ event_type: 'quarantine.access', run_id: intruder.id }))
        .entries,
    ).toEqual([]);

    // The owner's output id is no authorisation either.
    const made = okOutput(
      await call(owner, TRANSFORM_TOOLS.summarize, { content_ref: ref, justification: 'j' }),
    );
    for (const tool of [VERIFY_TOOL, DECLASSIFY_TOOL]) {
      const outcome = await call(intruder, tool, {
        transform_output_id: made.transform_output_id,
        justification: 'j',
      });
      expect(outcome.status).toBe('refused');
    }
    const outputDenials = (
      await h.started.chain.query({ event_type: 'policy.decision', run_id: intruder.id })
    ).entries.filter((d) => d.rule_id === 'transform.session_binding');
    expect(outputDenials).toHaveLength(2);
    expect(await h.runState(intruder.id)).toBe('running');
  });

  it('find nothing once a purge took the session’s content, and its outputs with it', async () => {
    const run = await h.runningRun();
    const ref = await ingest(run);
    const made = okOutput(
      await call(run, TRANSFORM_TOOLS.summarize, { content_ref: ref, justification: 'j' }),
    );
    expect(
      await h.started.quarantine.purge(
        { by: 'session', session_id: run.session_id },
        { actor: 'admin' },
      ),
    ).toEqual({ purged: 1 });
    const again = await call(run, TRANSFORM_TOOLS.summarize, {
      content_ref: ref,
      justification: 'j',
    });
    expect(again.status).toBe('refused');
    const verify = await call(run, VERIFY_TOOL, {
      transform_output_id: made.transform_output_id,
      justification: 'j',
    });
    expect(verify.status).toBe('refused');
    const [purged] = (
      await h.started.chain.query({ event_type: 'quarantine.purged' })
    ).entries.filter((e) => e.session_id === run.session_id);
    expect(purged?.data).toMatchObject({
      reason: 'session',
      content_refs: [ref],
      transform_outputs: 1,
    });
  });

  it('refuse invalid parameters before anything is read', async () => {
    const run = await h.runningRun();
    const ref = await ingest(run);
    const outcome = await call(run, TRANSFORM_TOOLS.summarize, { content_ref: ref });
    expect(outcome).toMatchObject({ status: 'error', code: 'INVALID_INPUT' });
    expect(
      (await h.started.chain.query({ event_type: 'quarantine.access', run_id: run.id })).entries,
    ).toEqual([]);
  });
});
