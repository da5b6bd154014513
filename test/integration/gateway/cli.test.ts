import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { CommanderError, type Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../../contracts/api.ts';
import type { Approval } from '../../../contracts/approvals.ts';
import type { Run } from '../../../contracts/runs.ts';
import type { CreatedToken, TokenInfo } from '../../../contracts/tokens.ts';
import { buildProgram } from '../../../main/cli/program.ts';
import { ADMIN_TOKEN_FILE, GATEWAY_INFO_FILE } from '../../../main/host.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { startGatewayHost, type GatewayTestHost } from './helpers/gateway-host.ts';
import { runCli, spawnCli, type CliResult } from './helpers/run-cli.ts';

const TEST = { actor: 'test' };
const SERVE_START_MS = 15_000;

/** Issue 3, CLI: the real `ccos` binary as a child process against a running host. */
describe('ccos CLI against a running host', () => {
  let gw: GatewayTestHost;
  const ccos = (...args: string[]) => runCli(['--data-dir', gw.dataDir, ...args]);
  const json = (r: CliResult): unknown => {
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };

  beforeAll(async () => {
    gw = await startGatewayHost();
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('runs create | list | show | cancel | resume, with --json', async () => {
    const run = json(
      await ccos('--json', 'runs', 'create', 'tidy the inbox', '--max-steps', '9'),
    ) as Run;
    expect(run).toMatchObject({ goal: 'tidy the inbox', state: 'pending', created_by: 'admin' });
    expect(run.budget.max_steps).toBe(9);
    expect((await gw.started.runs.get(run.id)).goal).toBe('tidy the inbox');

    const list = json(await ccos('--json', 'runs', 'list', '--state', 'pending')) as {
      runs: Run[];
    };
    expect(list.runs.map((r) => r.id)).toContain(run.id);
    const detail = json(await ccos('--json', 'runs', 'show', run.id)) as RunDetail;
    expect(detail.run.id).toBe(run.id);
    expect(detail.goals[0]?.text).toBe('tidy the inbox');

    const text = await ccos('runs', 'show', run.id);
    expect(text.stdout).toContain(`run      ${run.id}`);
    expect(text.stdout).toContain('state    pending');

    const cancelled = json(
      await ccos('--json', 'runs', 'cancel', run.id, '--reason', 'done by hand'),
    ) as Run;
    expect(cancelled).toMatchObject({ state: 'cancelled', state_reason: 'done by hand' });
    const again = await ccos('runs', 'cancel', run.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[ILLEGAL_TRANSITION]');

    const paused = await gw.started.runs.create({ goal: 'later' }, TEST);
    await gw.started.runs.transition(paused.id, 'running', TEST);
    await gw.started.runs.transition(paused.id, 'paused_schedule', { ...TEST, reason: 'tonight' });
    const resumed = json(await ccos('--json', 'runs', 'resume', paused.id)) as Run;
    expect(resumed.state).toBe('pending');
  });

  it('runs create --idempotency-key creates once', async () => {
    const first = json(
      await ccos('--json', 'runs', 'create', 'once', '--idempotency-key', 'cli-key-1'),
    ) as Run;
    const second = json(
      await ccos('--json', 'runs', 'create', 'once', '--idempotency-key', 'cli-key-1'),
    ) as Run;
    expect(second.id).toBe(first.id);
  });

  it('tokens create | list | revoke; the list holds no secret', async () => {
    const created = json(
      await ccos(
        '--json',
        'tokens',
        'create',
        '--label',
        'ci',
        '--connector',
        'ci-bot',
        '--scope',
        'runs:read',
        'runs:create',
      ),
    ) as CreatedToken;
    expect(created.info).toMatchObject({
      kind: 'connector',
      connector_id: 'ci-bot',
      scopes: ['runs:read', 'runs:create'],
    });
    expect((await gw.request('GET', '/v1/runs', { token: created.token })).status).toBe(200);

    const listed = await ccos('--json', 'tokens', 'list');
    const tokens = (json(listed) as { tokens: TokenInfo[] }).tokens;
    expect(tokens.map((t) => t.id)).toContain(created.info.id);
    expect(listed.stdout).not.toContain(created.token.split('.').at(-1));

    const revoked = json(await ccos('--json', 'tokens', 'revoke', created.info.id)) as TokenInfo;
    expect(revoked.revoked_at).not.toBeNull();
    expect((await gw.request('GET', '/v1/runs', { token: created.token })).status).toBe(401);
  });

  it('approvals list | approve | reject', async () => {
    const request = async (goal: string): Promise<Approval> => {
      const run = await gw.started.runs.create({ goal }, TEST);
      await gw.started.runs.transition(run.id, 'running', TEST);
      return (
        await gw.started.approvals.requestAndPause(
          {
            run_id: run.id,
            step_id: 'step_1',
            kind: 'human_action',
            rule_id: 'test.asks',
            scope: 'verify account',
            justification: 'a person must click the link',
            permission_diff: [],
            request: {},
          },
          TEST,
        )
      ).approval;
    };
    const yes = await request('needs yes');
    const no = await request('needs no');
    const pending = json(await ccos('--json', 'approvals', 'list')) as { approvals: Approval[] };
    expect(pending.approvals.map((a) => a.id)).toEqual(expect.arrayContaining([yes.id, no.id]));

    const approved = json(
      await ccos('--json', 'approvals', 'approve', yes.id, '--reason', 'looks fine'),
    ) as { approval: Approval; run: Run };
    expect(approved.approval).toMatchObject({
      state: 'approved',
      reason: 'looks fine',
      decided_by: 'admin',
    });
    expect(approved.run.state).toBe('pending');
    const rejected = json(await ccos('--json', 'approvals', 'reject', no.id)) as {
      approval: Approval;
    };
    expect(rejected.approval.state).toBe('denied');

    const twice = await ccos('approvals', 'approve', yes.id);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('[CONFLICT]');
  });

  it('chain verify', async () => {
    const result = json(await ccos('--json', 'chain', 'verify')) as {
      ok: boolean;
      entries: number;
    };
    expect(result.ok).toBe(true);
    expect(result.entries).toBeGreaterThan(0);
    expect((await ccos('chain', 'verify')).stdout).toMatch(/^chain ok: \d+ entries/);
  });

  it('errors exit non-zero with the code in the message', async () => {
    const missing = await ccos('runs', 'show', `run_${'0'.repeat(32)}`);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('[NOT_FOUND]');

    const invalid = await ccos('runs', 'create', '   ');
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('[INVALID_INPUT]');
    expect(invalid.stderr).toContain('goal');

    const badToken = await runCli(['--data-dir', gw.dataDir, 'runs', 'list'], {
      CCOS_TOKEN: 'ccos.nope',
    });
    expect(badToken.code).toBe(4);
    expect(badToken.stderr).toContain('[UNAUTHORIZED]');

    const dir = await makeTempDir('ccos-cli-nohost-');
    try {
      const noHost = await runCli(['--data-dir', dir, 'runs', 'list']);
      expect(noHost.code).toBe(3);
      expect(noHost.stderr).toContain('[HOST_UNREACHABLE]');
      expect(noHost.stderr).toContain('ccos serve');
    } finally {
      await removeTempDir(dir);
    }

    const unknownVerb = await ccos('runs', 'explode');
    expect(unknownVerb.code).toBe(2);
  });

  it('--help on every verb exits 0 with usage text', async () => {
    const verbs: string[][] = [[]];
    const walk = (command: Command, prefix: string[]): void => {
      for (const sub of command.commands) {
        const words = [...prefix, sub.name()];
        verbs.push(words);
        walk(sub, words);
      }
    };
    walk(buildProgram(), []);
    expect(verbs.length).toBeGreaterThan(15);
    // Every verb in this process (a Node start-up per verb made the test as slow as the
    // machine is loaded), through the same program the binary builds...
    for (const words of verbs) {
      const help = await helpOf(words);
      expect(help.code, `ccos ${words.join(' ')} --help`).toBe(0);
      expect(help.out).toContain(`Usage: ccos${words.length === 0 ? '' : ` ${words.join(' ')}`}`);
    }
    // ...and the built binary itself for the top level and one nested verb.
    for (const words of [[], ['schedules', 'create']]) {
      const r = await runCli([...words, '--help']);
      expect(r.code, `ccos ${words.join(' ')} --help: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`Usage: ccos${words.length === 0 ? '' : ` ${words.join(' ')}`}`);
    }
  });
});

/** What `ccos <words> --help` prints and its exit code, run on a fresh program in-process. */
async function helpOf(words: string[]): Promise<{ code: number; out: string }> {
  const program = buildProgram();
  let out = '';
  const quiet = (command: Command): void => {
    command.exitOverride().configureOutput({
      writeOut: (text) => (out += text),
      writeErr: (text) => (out += text),
    });
    for (const sub of command.commands) quiet(sub);
  };
  quiet(program);
  try {
    await program.parseAsync([...words, '--help'], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return { code: e.exitCode, out };
    throw e;
  }
  return { code: 0, out };
}

describe('ccos serve', () => {
  let dir: string;
  let child: ChildProcess | undefined;

  afterEach(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child?.once('exit', resolve));
    }
    child = undefined;
    await removeTempDir(dir);
  });

  const exited = (c: ChildProcess, timeoutMs: number) =>
    new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error('the child did not exit'));
      }, timeoutMs);
      c.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal });
      });
    });

  it('starts, writes gateway.json and an owner-only admin.token, answers, stops on SIGTERM', async () => {
    dir = await makeTempDir('ccos-serve-');
    child = spawnCli(['--data-dir', dir, 'serve', '--port', '0', '--log-level', 'silent']);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const info = path.join(dir, GATEWAY_INFO_FILE);
    const deadline = Date.now() + SERVE_START_MS;
    while (!existsSync(info)) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`serve did not start: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const { url, pid } = JSON.parse(await readFile(info, 'utf8')) as { url: string; pid: number };
    expect(pid).toBe(child.pid);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${url}/v1/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });

    const tokenFile = path.join(dir, ADMIN_TOKEN_FILE);
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
    const token = (await readFile(tokenFile, 'utf8')).trim();
    const runs = await fetch(`${url}/v1/runs`, { headers: { authorization: `Bearer ${token}` } });
    expect(runs.status).toBe(200);

    // The CLI finds this host by its data dir alone.
    const listed = await runCli(['--data-dir', dir, '--json', 'runs', 'list']);
    expect(listed.code, listed.stderr).toBe(0);

    child.kill('SIGTERM');
    expect(await exited(child, 10_000)).toEqual({ code: 0, signal: null });
    expect(existsSync(info)).toBe(false);
    await expect(fetch(`${url}/v1/health`)).rejects.toThrow();
  });

  it('refuses to bind 0.0.0.0 without --allow-non-loopback, with a clear message', async () => {
    dir = await makeTempDir('ccos-serve-');
    const r = await runCli([
      '--data-dir',
      dir,
      'serve',
      '--host',
      '0.0.0.0',
      '--port',
      '0',
      '--log-level',
      'silent',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('refusing to bind 0.0.0.0');
    expect(r.stderr).toContain('--allow-non-loopback');
    expect(existsSync(path.join(dir, GATEWAY_INFO_FILE))).toBe(false);
  });
});
