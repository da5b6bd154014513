import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolCallOutcome } from '../../../contracts/agent-channel.ts';
import { REDACTED_SECRET } from '../../../main/policy/redactor.ts';
import { rawSql } from '../../support/raw-sqlite.ts';
import { startTestServer, type TestServer } from '../skills/skill-test-kit.ts';
import { NO_OPERATION_APPROVALS } from '../../support/test-policy-packs.ts';
import { startExecuteHost, type ExecuteTestHost } from './helpers/execute-host.ts';
import { manifest, operation } from './helpers/skill-folder.ts';

const CANARY = `canary-${randomBytes(16).toString('hex')}`;
/** The run goal as a person typed it, canary included. */
const GOAL = `use ${CANARY} to log in`;
/** Whether `text` holds the canary anywhere, the typed goal included (it is redacted on write). */
const leaks = (text: string): boolean => text.includes(CANARY);

/** Every way the canary can reach a skill: by reference in a header, in a param, in the goal. */
const LEAKY_CODE = String.raw`
const call = (origin) =>
  ccos.http.fetch({ url: origin + '/echo', method: 'GET', headers: { authorization: { $secret: 'CANARY_TOKEN' } } });

export async function fetchBack(input) {
  return await call(input.origin);
}
export async function throwBack(input) {
  const res = await call(input.origin);
  throw new Error('the server said ' + res.body + ' and ' + res.headers['x-echo-auth']);
}
export async function logBack(input) {
  const res = await call(input.origin);
  await ccos.log('warn', 'the server said ' + res.body + ' and ' + res.headers['x-echo-auth']);
  return { logged: true };
}
export async function useParam(input) {
  await ccos.log('info', 'param token ' + input.token);
  await ccos.log('error', 'goal was ' + input.goal);
  return { token: input.token, goal: input.goal, nested: [{ authorization: input.token }] };
}
export async function throwParam(input) {
  throw new Error('cannot use ' + input.token + ' for ' + input.goal);
}
export async function guarded(input) {
  return { token: input.token };
}
export async function needsMore(input) {
  return input;
}
`;

const SKILL = (origin: string) =>
  manifest(
    'leaky',
    [
      ...['fetchBack', 'throwBack', 'logBack'].map((id) =>
        operation(id, {
          capabilities: ['net.http'],
          input_schema: {
            type: 'object',
            properties: { origin: { type: 'string' } },
            required: ['origin'],
          },
        }),
      ),
      ...['useParam', 'throwParam'].map((id) =>
        operation(id, {
          input_schema: {
            type: 'object',
            properties: {
              token: { type: 'string' },
              goal: { type: 'string', 'x-ccos-autofill': 'run.goal' },
            },
            required: ['token', 'goal'],
          },
        }),
      ),
      // Asks a person first: the approval shows the params, which hold the canary.
      operation('guarded', {
        approval: 'always',
        input_schema: { type: 'object', properties: { token: { type: 'string' } } },
      }),
      operation('needsMore', {
        input_schema: {
          type: 'object',
          properties: { token: { type: 'string' }, why: { type: 'string' } },
          required: ['token', 'why'],
        },
      }),
    ],
    {
      egress: [{ origin, methods: ['GET'] }],
      secrets: ['CANARY_TOKEN'],
    },
  );

/** Issue 5 acceptance (ARCHITECTURE.md §10): the canary secret appears nowhere it is stored or logged. */
describe('canary: a secret never reaches logs, chain, steps, approvals, API answers or the database', () => {
  let h: ExecuteTestHost;
  let server: TestServer;
  const logLines: string[] = [];
  const outcomes: ToolCallOutcome[] = [];
  const apiTexts: string[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    h = await startExecuteHost({
      allowLoopbackHttp: true,
      logDestination: {
        write: (line: string) => {
          logLines.push(line);
        },
      },
    });
    const put = await h.request('PUT', '/v1/secrets/CANARY_TOKEN', { json: { value: CANARY } });
    expect(put.status).toBe(200);
    apiTexts.push(put.text);
    await h.install(SKILL(server.origin), LEAKY_CODE);

    // Past the operation gate (asked only for `guarded`): the test is about what is stored.
    const run = await h.runningRun(GOAL, NO_OPERATION_APPROVALS.id);
    const origin = { origin: server.origin };
    for (const op of ['fetchBack', 'throwBack', 'logBack']) {
      outcomes.push(await h.execute(run, `leaky__${op}`, origin));
    }
    outcomes.push(await h.execute(run, 'leaky__useParam', { token: CANARY }));
    outcomes.push(await h.execute(run, 'leaky__throwParam', { token: CANARY }));
    outcomes.push(await h.execute(run, 'leaky__nope', { token: CANARY }));
    // Both kinds of approval show the params to a person.
    const guarded = await h.execute(run, 'leaky__guarded', { token: CANARY });
    outcomes.push(guarded);
    if (guarded.status === 'paused') {
      apiTexts.push((await h.request('GET', `/v1/approvals/${guarded.approval_id}`)).text);
      const decided = await h.decide(guarded.approval_id, { decision: 'approve' });
      apiTexts.push(decided.text);
      const resumed = await h.resume(run.id);
      outcomes.push(await h.execute(resumed, 'leaky__guarded', { token: CANARY }));
      const asking = await h.execute(resumed, 'leaky__needsMore', { token: CANARY });
      outcomes.push(asking);
      apiTexts.push((await h.request('GET', `/v1/approvals?run_id=${run.id}`)).text);
    }
    apiTexts.push((await h.request('GET', `/v1/runs/${run.id}`)).text);
    apiTexts.push((await h.request('GET', `/v1/runs/${run.id}/steps`)).text);
    apiTexts.push((await h.request('GET', '/v1/chain?limit=1000')).text);
  });
  afterAll(async () => {
    await h.stop();
    await server.close();
  });

  it('the skills really were handed the canary (the test is not vacuous)', () => {
    // The server saw it in the header the host injected.
    expect(server.requests).toHaveLength(3);
    for (const r of server.requests) expect(r.headers.authorization).toBe(CANARY);
    expect(outcomes.map((o) => o.status)).toEqual([
      'ok',
      'error',
      'ok',
      'ok',
      'error',
      'error',
      'paused',
      'ok',
      'paused',
    ]);
    // Params and goal reach the skill as given; what comes back is redacted.
    expect(outcomes[3]).toEqual({
      status: 'ok',
      output: {
        token: REDACTED_SECRET,
        goal: `use ${REDACTED_SECRET} to log in`,
        nested: [{ authorization: REDACTED_SECRET }],
      },
    });
  });

  it('no log line, chain entry, step, approval or tool outcome holds the plaintext', async () => {
    expect(logLines.length).toBeGreaterThan(0);
    const chain = await h.chain();
    const steps = await rawSql(h.databaseFile, 'select * from steps');
    const approvals = await rawSql(h.databaseFile, 'select * from approvals');
    expect(steps.length).toBe(outcomes.length);
    expect(approvals.length).toBe(2);

    const places: Record<string, readonly unknown[]> = { chain, steps, approvals, outcomes };
    const hits = [
      ...logLines.map((l) => ['log', l] as const),
      ...Object.entries(places).flatMap(([where, rows]) =>
        rows.map((r) => [where, JSON.stringify(r)] as const),
      ),
    ].filter(([, text]) => text.includes(CANARY));
    expect(hits).toEqual([]);
  });

  it('API answers and the database files hold it nowhere', async () => {
    expect(apiTexts.filter(leaks)).toEqual([]);
    for (const file of [h.databaseFile, `${h.databaseFile}-wal`]) {
      const bytes = await readFile(file).catch(() => Buffer.alloc(0));
      expect(leaks(bytes.toString('latin1')), file).toBe(false);
    }
  });

  // RunService.create redacts known secret values in goal texts on write.
  it('the run goal itself is stored redacted', async () => {
    const runs = await rawSql(h.databaseFile, 'select goal from runs');
    const goals = await rawSql(h.databaseFile, 'select text from goals');
    expect(JSON.stringify([runs, goals])).not.toContain(CANARY);
  });

  it('the logs and the chain still say which skill, operation, status and duration', async () => {
    /** Each call made in `beforeAll`: operation (null when unknown) and how it ended. */
    const calls = [
      ['fetchBack', 'ok'],
      ['throwBack', 'error'],
      ['logBack', 'ok'],
      ['useParam', 'ok'],
      ['throwParam', 'error'],
      [null, 'error'],
      ['guarded', 'paused'],
      ['guarded', 'ok'],
      ['needsMore', 'paused'],
    ] as const;
    const lines = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const executed = lines.filter((l) => l.msg === 'skill executed');
    expect(executed.map((l) => [l.skill_id, l.operation_id, l.outcome])).toEqual(
      calls.map(([op, outcome]) => [op === null ? null : 'leaky', op, outcome]),
    );
    for (const l of executed) expect(typeof l.duration_ms).toBe('number');
    expect(executed[1]).toMatchObject({ code: 'SKILL_ERROR', version: '1.0.0' });
    // The skills' own lines are there too, redacted rather than dropped.
    const skillLines = lines.filter((l) => l.skill_id === 'leaky' && l.msg !== 'skill executed');
    expect(skillLines.map((l) => l.msg)).toEqual([
      expect.stringContaining('the server said') as unknown,
      `param token ${REDACTED_SECRET}`,
      `goal was use ${REDACTED_SECRET} to log in`,
    ]);

    const entries = await h.chain('skill.execute');
    expect(entries.map((e) => [e.capability_id, e.data.tool, e.data.outcome])).toEqual(
      calls.map(([op, outcome]) => [
        op === null ? null : 'leaky',
        `leaky__${op ?? 'nope'}`,
        outcome,
      ]),
    );
    for (const e of entries) expect(typeof e.data.duration_ms).toBe('number');
  });
});
