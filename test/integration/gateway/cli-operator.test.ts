import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { Run } from '../../../contracts/runs.ts';
import { GATEWAY_INFO_FILE } from '../../../main/data-dir-files.ts';
import { projectPath } from '../../support/project-path.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { startGatewayHost, type GatewayTestHost } from './helpers/gateway-host.ts';
import { runCli, spawnCli, type CliResult } from './helpers/run-cli.ts';

const TEST = { actor: 'test' };

/** A line of help or an error: no stack frame ever reaches a person's terminal. */
const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

/**
 * Issue 19, "A CLI that behaves like one": the real CLI as a child process against a real
 * host. One line for a user mistake, documented exit codes, the verbs that explain a run.
 */
describe('ccos for an operator', () => {
  let gw: GatewayTestHost;
  let scratch: string;
  const ccos = (...args: string[]): Promise<CliResult> =>
    runCli(['--data-dir', gw.dataDir, ...args]);

  beforeAll(async () => {
    gw = await startGatewayHost();
    scratch = await makeTempDir('ccos-cli-op-');
  });
  afterAll(async () => {
    await gw.stop();
    await removeTempDir(scratch);
  });

  it('lists its exit codes in --help', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const line of ['0  ok', '2  usage', '3  the host is unreachable', '4  not allowed'])
      expect(help.stdout).toContain(line);
  });

  describe('host unreachable: exit 3, one line, what to do', () => {
    it('when no host ever ran in the data dir', async () => {
      const dir = path.join(scratch, 'never');
      await mkdir(dir);
      const r = await runCli(['--data-dir', dir, 'runs', 'list']);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('[HOST_UNREACHABLE]');
      expect(r.stderr).toContain('ccos serve');
      expect(r.stderr).not.toMatch(STACK_FRAME);
    });

    it('when gateway.json was left behind by a host that crashed', async () => {
      const dir = path.join(scratch, 'stale');
      await mkdir(dir);
      // A pid that is certainly not running: a child that has already exited.
      const gone = spawnSync(process.execPath, ['-e', '0']).pid;
      await writeFile(
        path.join(dir, GATEWAY_INFO_FILE),
        JSON.stringify({ url: 'http://127.0.0.1:9', pid: gone }),
      );
      const r = await runCli(['--data-dir', dir, 'runs', 'list']);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`(pid ${gone}) is no longer running`);
      expect(r.stderr).not.toMatch(STACK_FRAME);
    });

    it('when --url points where nothing listens, naming the cause', async () => {
      const port = await unusedPort();
      const r = await runCli([
        '--url',
        `http://127.0.0.1:${port}`,
        '--token-file',
        gw.started.adminTokenFile,
        'runs',
        'list',
      ]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(
        `cannot reach the host at http://127.0.0.1:${port} (ECONNREFUSED)`,
      );
      expect(r.stderr).not.toMatch(STACK_FRAME);
    });
  });

  it('refuses invalid numbers before asking the host: exit 2, the flag and what it takes', async () => {
    for (const args of [
      ['runs', 'create', 'x', '--max-steps', 'abc'],
      ['runs', 'create', 'x', '--max-steps', '0'],
      ['runs', 'list', '--limit', '-5'],
      ['runs', 'list', '--limit', '5000'],
    ]) {
      const r = await ccos(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/--(max-steps|limit) takes a whole number/);
      expect(r.stderr).not.toMatch(STACK_FRAME);
    }
    expect((await gw.started.runs.list()).filter((run) => run.goal === 'x')).toEqual([]);
  });

  it('says "not allowed" with exit 4 for a token the host does not know', async () => {
    const r = await runCli(['--data-dir', gw.dataDir, 'runs', 'list'], { CCOS_TOKEN: 'ccos.nope' });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('admin.token');
  });

  it('says "already created" when an Idempotency-Key replays', async () => {
    const first = await ccos('runs', 'create', 'once only', '--idempotency-key', 'op-key-1');
    expect(first.stdout).toMatch(/^created run_/);
    const again = await ccos('runs', 'create', 'once only', '--idempotency-key', 'op-key-1');
    expect(again.stdout).toMatch(/^already created run_/);
    expect(again.stdout.split(' ')[2]).toBe(first.stdout.split(' ')[1]);
  });

  it('resolves relative paths from where the user typed them (INIT_CWD under npm run)', async () => {
    // As typed by a user standing in plugins/: both paths are relative to that folder.
    const args = [
      '--data-dir',
      path.relative(projectPath('plugins'), gw.dataDir),
      'skills',
      'install',
      'echo-notes',
    ];
    const typed = await runCli(args, { INIT_CWD: projectPath('plugins') });
    expect(typed.code, typed.stderr).toBe(0);
    expect(typed.stdout).toContain('installed echo-notes@');
    // The CLI runs in the repository root (as `npm run` does): resolved from there instead,
    // the same words point elsewhere.
    const fromRoot = await runCli(['skills', 'install', 'echo-notes', '--data-dir', gw.dataDir]);
    expect(fromRoot.code).not.toBe(0);
  });

  it('shows input schemas readably, and says when a skill has nothing to set up', async () => {
    if (gw.started.skills.list().every((s) => s.skill_id !== 'echo-notes'))
      await gw.started.skills.install(projectPath('plugins', 'echo-notes'), TEST);
    const show = await ccos('skills', 'show', 'echo-notes');
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/text: string, required/);
    expect(show.stdout).toMatch(/key: string, required/);
    const setup = await ccos('skills', 'setup', 'echo-notes');
    expect(setup.code).toBe(0);
    expect(setup.stdout).toContain('nothing to set up');
  });

  it('runs steps | chain | events and chain query explain a run', async () => {
    const run = await gw.started.runs.create({ goal: 'wait for payment' }, TEST);
    await gw.started.runs.transition(run.id, 'running', TEST);
    await gw.started.runs.transition(run.id, 'paused_external_event', {
      ...TEST,
      reason: 'until paid',
      waiting_for: 'payment.received',
    });
    const event = await ccos(
      'runs',
      'events',
      run.id,
      'payment.received',
      '--data',
      '{"id":"inv-1"}',
    );
    expect(event.code, event.stderr).toBe(0);
    expect(event.stdout).toContain('resumes (pending)');
    const bad = await ccos('runs', 'events', run.id, 'payment.received', '--data', '[1]');
    expect(bad.code).toBe(2);

    const chain = await ccos('runs', 'chain', run.id, '--type', 'run.transition');
    expect(chain.code, chain.stderr).toBe(0);
    expect(chain.stdout).toContain('running → paused_external_event (until paid)');
    expect(chain.stdout).toContain(
      'paused_external_event → pending (event payment.received received)',
    );
    const entries = JSON.parse((await ccos('--json', 'runs', 'chain', run.id)).stdout) as {
      entries: ChainEntry[];
    };
    expect(entries.entries.every((e) => e.run_id === run.id)).toBe(true);

    const query = JSON.parse(
      (await ccos('--json', 'chain', 'query', '--run', run.id, '--type', 'event.received')).stdout,
    ) as { entries: ChainEntry[] };
    expect(query.entries.map((e) => e.data.type)).toEqual(['payment.received']);
    const unknownType = await ccos('chain', 'query', '--type', 'nope');
    expect(unknownType.code).toBe(2);

    const steps = await ccos('runs', 'steps', run.id);
    expect(steps.code).toBe(0);
    expect(steps.stdout).toBe('(none)\n');
  });

  it('runs watch follows a run live and ends with it (exit 0 when done)', async () => {
    const run = await gw.started.runs.create({ goal: 'watch me' }, TEST);
    const child = spawnCli(['--data-dir', gw.dataDir, 'runs', 'watch', run.id]);
    let out = '';
    const header = new Promise<void>((resolve) => {
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('steps 0/')) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await header;
    await gw.started.runs.transition(run.id, 'running', TEST);
    await gw.started.runs.transition(run.id, 'done', { ...TEST, reason: 'all good' });
    expect(await exited).toBe(0);
    expect(out).toContain(`${run.id}: pending`);
    expect(out).toContain('pending → running');
    expect(out).toContain('running → done (all good)');

    const failed = await gw.started.runs.create({ goal: 'fail me' }, TEST);
    await gw.started.runs.transition(failed.id, 'failed', { ...TEST, reason: 'broken' });
    const r = await ccos('runs', 'watch', failed.id);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('failed (broken)');
  });

  it('shows retries no higher than their limit', async () => {
    const run: Run = await gw.started.runs.create(
      { goal: 'retry', budget: { max_retries: 1 } },
      TEST,
    );
    await gw.started.runs.transition(run.id, 'failed', {
      ...TEST,
      reason: 'retries_exhausted',
      usage: { ...run.usage, retries: 2 },
    });
    const show = await ccos('runs', 'show', run.id);
    expect(show.stdout).toContain('retries 1/1');
    expect(show.stdout).not.toContain('retries 2/1');
  });
});

describe('the installed ccos bin under an older Node', () => {
  const older = ['/usr/bin/node', '/usr/local/bin/node', '/bin/node'].find((candidate) => {
    const r = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    return r.status === 0 && Number(r.stdout.split('.')[0]) < 24;
  });

  it.skipIf(older === undefined)(
    'stops with the same clear message as npm start (skipped when no Node < 24 is installed)',
    () => {
      const r = spawnSync(older ?? '', [projectPath('dist', 'main', 'cli.js'), 'runs', 'list'], {
        encoding: 'utf8',
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('ccos needs Node >= 24');
      expect(r.stderr).not.toMatch(STACK_FRAME);
      expect(readFileSync(projectPath('main', 'cli.ts'), 'utf8').split('\n')[1]).toBe(
        "import './cli/require-node24.ts';",
      );
    },
  );
});

/** A loopback port nothing listens on: one the OS just handed out and was closed again. */
async function unusedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 0;
}
