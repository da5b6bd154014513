import { createServer } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../../contracts/approvals.ts';
import type { ChainEntry } from '../../../contracts/chain.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import { runCli, type CliResult } from '../gateway/helpers/run-cli.ts';
import { FIXTURES, listenOnLoopback } from '../skills/skill-test-kit.ts';
import {
  paused,
  recordedCalls,
  recordingSkillCode,
  startExecuteHost,
  type ExecuteTestHost,
} from './helpers/execute-host.ts';
import { manifest, operation } from './helpers/skill-folder.ts';

const NS = 'mailer';
const SEND = 'mailer__send';
const KEY_LIKE = 'sk-proj-Zq81xY7LmN0pQrStUvWx42ab';
const SKILL = manifest('mailer', [operation('send', { approval: 'always' })], {
  memory_namespaces: [NS],
});
/** Approvals of runs under this pack wait one second for a person, then expire. */
const BRIEF = { ...DEFAULT_POLICY_PACK, id: 'brief', approval_timeout_ms: 1000 };

describe('approvals close when they can no longer be decided', () => {
  let h: ExecuteTestHost;
  let dir: string;
  const ccos = (...args: string[]): Promise<CliResult> =>
    runCli(['--data-dir', h.dataDir, ...args]);
  const sends = async () =>
    (await recordedCalls(h.skillMemory(SKILL.skill_id), NS)).filter((c) => c.op === 'send');

  /** Resolves with the first chain entry matching `match`, already there or appended later. */
  const entry = (match: (e: ChainEntry) => boolean): Promise<ChainEntry> =>
    new Promise((resolve) => {
      const sub = h.started.chain.subscribe((entries) => {
        const hit = entries.find(match);
        if (hit === undefined) return;
        void sub.dispose();
        resolve(hit);
      });
      void h.chain().then((all) => {
        const hit = all.find(match);
        if (hit === undefined) return;
        void sub.dispose();
        resolve(hit);
      });
    });

  beforeAll(async () => {
    h = await startExecuteHost({ allowLoopbackHttp: true, policyPacks: [BRIEF] });
    await h.install(SKILL, recordingSkillCode(NS, ['send']));
    dir = await mkdtemp(path.join(os.tmpdir(), 'ccos-approval-life-'));
  });
  afterAll(async () => {
    await h.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('cancelling a run expires its pending approval, with the reason, and it can no longer be decided', async () => {
    const run = await h.runningRun();
    const asked = paused(await h.execute(run, SEND, { to: 'ada' }));
    const cancel = await ccos('runs', 'cancel', run.id, '--reason', 'wrong recipient');
    expect(cancel.code, cancel.stderr).toBe(0);

    const closed = await h.approval(asked.approval_id);
    expect(closed).toMatchObject({
      state: 'expired',
      reason: 'run cancelled: wrong recipient',
      decided_by: 'admin',
      expires_in_ms: null,
    });
    const listed = (await h.request('GET', '/v1/approvals')).body as { approvals: Approval[] };
    expect(listed.approvals.map((a) => a.id)).not.toContain(asked.approval_id);
    const decided = await h.decide(asked.approval_id, { decision: 'approve' });
    expect(decided.status).toBe(409);
    const decision = await entry(
      (e) => e.event_type === 'approval.decision' && e.data.approval_id === asked.approval_id,
    );
    expect(decision.data).toMatchObject({ decision: 'expire', state: 'expired' });
    expect(await sends()).toEqual([]);
  });

  it('a run that fails expires its pending approvals too', async () => {
    const run = await h.runningRun();
    const asked = paused(await h.execute(run, SEND, { to: 'bob' }));
    await h.started.runs.transition(run.id, 'failed', { actor: 'host', reason: 'broken' });
    expect(await h.approval(asked.approval_id)).toMatchObject({
      state: 'expired',
      reason: 'run failed: broken',
    });
  });

  it('an approval past its pack timeout expires as a refusal, the run is told, and the call never runs', async () => {
    const created = await h.started.runs.create(
      { goal: 'send it', policy_pack: 'brief' },
      { actor: 'admin' },
    );
    const run = await h.resume(created.id);
    const asked = paused(await h.execute(run, SEND, { to: 'cy' }));
    const expired = entry(
      (e) =>
        e.event_type === 'approval.decision' &&
        e.data.decision === 'expire' &&
        e.data.approval_id === asked.approval_id,
    );
    const fresh = await h.approval(asked.approval_id);
    expect(fresh.expires_at).not.toBeNull();
    // Time left is in the API, never more than the pack allows.
    expect(fresh.expires_in_ms).toBeGreaterThanOrEqual(0);
    expect(fresh.expires_in_ms).toBeLessThanOrEqual(1000);

    expect((await expired).data).toMatchObject({ approval_id: asked.approval_id });
    expect(await h.approval(asked.approval_id)).toMatchObject({
      state: 'expired',
      reason: 'no decision within 1 s',
      decided_by: 'host:approval-timeout',
    });
    // Told: the run was queued to resume, and the re-issued call is refused, not run.
    expect(await h.runState(run.id)).toBe('pending');
    const again = await h.execute(await h.resume(run.id), SEND, { to: 'cy' });
    expect(again).toEqual({
      status: 'refused',
      reason: 'the approval for mailer__send expired without a decision: no decision within 1 s',
    });
    expect(await sends()).toEqual([]);
    expect((await h.decide(asked.approval_id, { decision: 'approve' })).status).toBe(409);
  });

  it('list and show say what is asked: tool, redacted arguments, method and URL, budget, time left; deny (alias reject) refuses', async () => {
    const dead = await listenOnLoopback(createServer());
    await dead.close();
    const text = (
      await readFile(path.join(FIXTURES, 'declarative', 'weather.skill.yaml'), 'utf8')
    ).replace('https://api.weather.example/v2', `${dead.origin}/v2`);
    await writeFile(path.join(dir, 'skill.yaml'), text);
    const installed = await h.request('POST', '/v1/skills', {
      json: { path: path.join(dir, 'skill.yaml') },
    });
    expect(installed.status, installed.text).toBe(201);
    const run = await h.runningRun();
    const asked = paused(
      await h.execute(run, 'weather__addNote', { station: 'ED DB', text: `key ${KEY_LIKE}` }),
    );

    const list = await ccos('approvals', 'list');
    expect(list.stdout).toContain(`weather__addNote POST ${dead.origin}/v2/stations/ED%20DB/notes`);
    const show = await ccos('approvals', 'show', asked.approval_id);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/^tool {6}weather__addNote$/m);
    expect(show.stdout).toContain(`request   POST ${dead.origin}/v2/stations/ED%20DB/notes`);
    expect(show.stdout).toMatch(/"station": "ED DB"/);
    expect(show.stdout).not.toContain(KEY_LIKE);
    expect(show.stdout).toMatch(/^budget {4}approving runs the call: one step/m);
    expect(show.stdout).toMatch(/^ {10}run so far: steps \d+\/\d+/m);
    expect(show.stdout).toMatch(/^expires {3}never/m);

    const denied = await ccos('approvals', 'deny', asked.approval_id, '--reason', 'not now');
    expect(denied.code, denied.stderr).toBe(0);
    expect(denied.stdout).toContain(`${asked.approval_id} denied`);

    const second = paused(
      await h.execute(await h.runningRun(), 'weather__addNote', { station: 'X', text: 'y' }),
    );
    const rejected = await ccos('approvals', 'reject', second.approval_id);
    expect(rejected.stdout).toContain(`${second.approval_id} denied`);
  });
});
