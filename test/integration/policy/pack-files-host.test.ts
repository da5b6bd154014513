import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Run } from '../../../contracts/runs.ts';
import { parseHostConfig } from '../../../main/config.ts';
import { isAppError } from '../../../main/errors.ts';
import { Host, type StartedHost } from '../../../main/host.ts';
import { stampedVersionOf } from '../../../main/policy/pack-version.ts';
import { DEFAULT_POLICY_PACK } from '../../../main/policy/policy-packs.ts';
import { DATABASE_FILE } from '../../../main/store/open-store.ts';
import { testHostEnv } from '../../support/test-host-env.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { runCli } from '../gateway/helpers/run-cli.ts';

/**
 * Policy packs as files (issue 22), through a real host on a real data dir: a bad file stops
 * start-up before anything opens, a run keeps the pack version it was created under across an
 * edit of its file and a restart, and the CLI lists, shows and checks packs.
 */

const TEAM_V1 = { ...DEFAULT_POLICY_PACK, id: 'team', description: 'the team pack' };
const TEAM_V2 = { ...TEAM_V1, approval_capabilities: [] };

let dataDir: string;
let started: StartedHost | undefined;
let host: Host | undefined;

beforeEach(async () => {
  dataDir = await makeTempDir('ccos-packs-host-');
  await mkdir(path.join(dataDir, 'policies'));
});

afterEach(async () => {
  await host?.stop();
  host = undefined;
  started = undefined;
  await removeTempDir(dataDir);
});

async function start(policyDir?: string): Promise<StartedHost> {
  host = new Host(
    parseHostConfig(
      {
        data_dir: dataDir,
        log_level: 'silent',
        gateway: { host: '127.0.0.1', port: 0, allow_non_loopback: false },
        ...(policyDir === undefined ? {} : { policy_dir: policyDir }),
      },
      testHostEnv(),
    ),
    { logger: pino({ level: 'silent' }) },
  );
  started = await host.start();
  return started;
}

async function restart(): Promise<StartedHost> {
  await host?.stop();
  host = undefined;
  return start();
}

async function api(
  s: StartedHost,
  method: string,
  urlPath: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: unknown }> {
  const admin = (await readFile(s.adminTokenFile, 'utf8')).trim();
  const res = await fetch(`${s.gateway.url}${urlPath}`, {
    method,
    headers: {
      authorization: `Bearer ${token ?? admin}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

const teamFile = (): string => path.join(dataDir, 'policies', 'team.yaml');

describe('policy pack files on a real host', () => {
  it('an invalid file stops start-up with file:line:col, before the database is opened', async () => {
    await writeFile(teamFile(), stringify({ ...TEAM_V1, segment_max_steps: 'ten' }));
    const failure = await start().catch((e: unknown) => e);
    expect(isAppError(failure, 'POLICY_PACK_INVALID')).toBe(true);
    const line = stringify({ ...TEAM_V1, segment_max_steps: 'ten' })
      .split('\n')
      .findIndex((l) => l.startsWith('segment_max_steps'));
    expect((failure as Error).message).toContain(
      `${teamFile()}:${line + 1}:20: segment_max_steps:`,
    );
    expect(existsSync(path.join(dataDir, DATABASE_FILE))).toBe(false);
    host = undefined;
  });

  it('a file may not take a built-in id', async () => {
    await writeFile(
      teamFile(),
      stringify({ ...TEAM_V1, id: 'default', approval_capabilities: [] }),
    );
    const failure = await start().catch((e: unknown) => e);
    expect((failure as Error).message).toContain('"default" is a built-in pack');
    host = undefined;
  });

  it('a run keeps the version it was created under after its file is edited, then removed', async () => {
    await writeFile(teamFile(), stringify(TEAM_V1));
    let s = await start();
    const created = await api(s, 'POST', '/v1/runs', { goal: 'under v1', policy_pack: 'team' });
    expect(created.status).toBe(201);
    const old = created.body as Run;
    expect(old.policy_pack_version).toBe(stampedVersionOf(TEAM_V1));

    // The person loosens the pack: new runs get it, the old run does not.
    await writeFile(teamFile(), stringify(TEAM_V2));
    s = await restart();
    const fresh = (await api(s, 'POST', '/v1/runs', { goal: 'under v2', policy_pack: 'team' }))
      .body as Run;
    expect(fresh.policy_pack_version).toBe(stampedVersionOf(TEAM_V2));
    expect(fresh.policy_pack_version).not.toBe(old.policy_pack_version);
    const reread = (await api(s, 'GET', `/v1/runs/${old.id}`)).body as { run: Run };
    expect(reread.run.policy_pack_version).toBe(stampedVersionOf(TEAM_V1));
    expect(s.policies.forRun(reread.run).approval_capabilities).toEqual(
      TEAM_V1.approval_capabilities,
    );
    // Every entry of each run carries its own version.
    expect((await api(s, 'POST', `/v1/runs/${old.id}/cancel`, {})).status).toBe(200);
    const entries = await s.chain.query({ run_id: old.id });
    expect(entries.entries.map((e) => e.policy_pack_version)).toEqual(
      entries.entries.map(() => stampedVersionOf(TEAM_V1)),
    );
    const freshEntries = await s.chain.query({ run_id: fresh.id });
    for (const e of freshEntries.entries)
      expect(e.policy_pack_version).toBe(stampedVersionOf(TEAM_V2));
    const listed = (await api(s, 'GET', '/v1/policies')).body as {
      packs: { id: string; version: string; source: { kind: string } }[];
    };
    expect(listed.packs.filter((p) => p.id === 'team')).toEqual([
      {
        id: 'team',
        version: stampedVersionOf(TEAM_V2),
        description: 'the team pack',
        source: { kind: 'file', path: teamFile() },
      },
      {
        id: 'team',
        version: stampedVersionOf(TEAM_V1),
        description: 'the team pack',
        source: { kind: 'pinned' },
      },
    ]);

    // The file goes away: no new run may name it, the runs made under it keep their rules.
    await rm(teamFile());
    s = await restart();
    const refused = await api(s, 'POST', '/v1/runs', { goal: 'gone', policy_pack: 'team' });
    expect(refused.status).toBe(400);
    const kept = (await api(s, 'GET', `/v1/runs/${fresh.id}`)).body as { run: Run };
    expect(s.policies.forRun(kept.run).version).toBe(stampedVersionOf(TEAM_V2));
  });

  it('only an admin reads the packs', async () => {
    const s = await start();
    const token = (
      (
        await api(s, 'POST', '/v1/tokens', {
          kind: 'connector',
          connector_id: 'c1',
          scopes: ['runs:read'],
          label: 'reader',
        })
      ).body as { token: string }
    ).token;
    expect((await api(s, 'GET', '/v1/policies', undefined, token)).status).toBe(403);
    expect((await api(s, 'GET', '/v1/policies/default', undefined, token)).status).toBe(403);
    expect((await api(s, 'GET', '/v1/policies/nope')).status).toBe(404);
    const shown = (await api(s, 'GET', '/v1/policies/strict')).body as {
      pack: { id: string; version: string };
    };
    // As authored: the label, not the stamped version.
    expect(shown.pack).toMatchObject({ id: 'strict', version: '1' });
  });
});

describe('ccos policies', () => {
  it('check: ok with the version it would be stamped with, or every problem and exit 1', async () => {
    const good = path.join(dataDir, 'good.yaml');
    await writeFile(good, stringify(TEAM_V1));
    const ok = await runCli(['policies', 'check', good]);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toContain(`ok, pack "team" version ${stampedVersionOf(TEAM_V1)}`);

    const bad = path.join(dataDir, 'bad.yaml');
    await writeFile(bad, stringify({ ...TEAM_V1, budget_on_exceed: 'shrug', extra: 1 }));
    const refused = await runCli(['policies', 'check', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`${bad}:\\d+:\\d+: budget_on_exceed: `));
    expect(refused.stderr).toMatch(new RegExp(`${bad}:\\d+:\\d+: extra: unknown field`));
  });

  it('list and show against a running host, with --policy-dir', async () => {
    const extra = await makeTempDir('ccos-policy-dir-');
    try {
      await writeFile(path.join(extra, 'team.json'), JSON.stringify(TEAM_V1));
      await start(extra);
      const listed = await runCli(['--data-dir', dataDir, 'policies', 'list']);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(/default\s+1\+[0-9a-f]{16}\s+built in/);
      expect(listed.stdout).toContain(path.join(extra, 'team.json'));
      const shown = await runCli(['--data-dir', dataDir, 'policies', 'show', 'team']);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain(`# team ${stampedVersionOf(TEAM_V1)}`);
      expect(shown.stdout).toContain('description: the team pack');
    } finally {
      await host?.stop();
      host = undefined;
      await removeTempDir(extra);
    }
  });

  it('serve refuses to start on a bad --policy-dir file and names the line', async () => {
    const extra = await makeTempDir('ccos-policy-dir-');
    try {
      await writeFile(path.join(extra, 'x.yaml'), 'id: x\nversion: [\n');
      const served = await runCli(
        ['--data-dir', dataDir, 'serve', '--port', '0', '--policy-dir', extra],
        testHostEnv(),
      );
      expect(served.code).not.toBe(0);
      expect(served.stderr).toContain(`${path.join(extra, 'x.yaml')}:`);
      expect(served.stderr).toContain('POLICY_PACK_INVALID');
    } finally {
      await removeTempDir(extra);
    }
  });
});
