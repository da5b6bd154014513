import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Grant } from '../../../contracts/grants.ts';
import { runCli, type CliResult } from '../gateway/helpers/run-cli.ts';
import { paused, startExecuteHost, type ExecuteTestHost } from './helpers/execute-host.ts';
import { manifest, operation } from './helpers/skill-folder.ts';

const POST = 'poster__post';
const SKILL = manifest('poster', [operation('post', { approval: 'always' })]);
const CODE = `export async function post(input) { return { posted: input }; }`;

/** Issue 22: `ccos approvals approve --grant`, `ccos grants list|show|revoke`, the real binary. */
describe('ccos grants', () => {
  let h: ExecuteTestHost;
  const ccos = (...args: string[]) => runCli(['--data-dir', h.dataDir, ...args]);
  const json = (r: CliResult): unknown => {
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };

  beforeAll(async () => {
    h = await startExecuteHost();
    await h.install(SKILL, CODE);
  });
  afterAll(async () => {
    await h.stop();
  });

  it('approve --grant makes a grant that list shows, that lets the next call through, and revoke ends', async () => {
    const run = await h.runningRun();
    const asked = paused(await h.execute(run, POST, { text: 'hello' }));

    const shownApproval = await ccos('approvals', 'show', asked.approval_id);
    expect(shownApproval.stdout).toContain('standing  `approve --grant run|schedule');

    const lone = await ccos('approvals', 'approve', asked.approval_id, '--uses', '2');
    expect(lone.code).toBe(2);
    expect(lone.stderr).toContain('need --grant');
    expect((await h.approval(asked.approval_id)).state).toBe('pending');

    const decided = json(
      await ccos(
        '--json',
        'approvals',
        'approve',
        asked.approval_id,
        '--grant',
        'run',
        '--uses',
        '2',
        '--for',
        '4h',
      ),
    ) as { grant: Grant };
    expect(decided.grant).toMatchObject({ scope: 'run', max_uses: 2, tool: POST });

    const listed = json(await ccos('--json', 'grants', 'list')) as { grants: Grant[] };
    expect(listed.grants.map((g) => g.id)).toEqual([decided.grant.id]);
    const shown = await ccos('grants', 'show', decided.grant.id);
    expect(shown.stdout).toContain(`covers   ${POST} of poster 1.0.0`);
    expect(shown.stdout).toContain('uses     0/2');

    const resumed = await h.resume(run.id);
    expect(await h.execute(resumed, POST, { text: 'hello' })).toMatchObject({ status: 'ok' });
    expect(await h.execute(resumed, POST, { text: 'again' })).toMatchObject({ status: 'ok' });

    const revoked = await ccos('grants', 'revoke', decided.grant.id);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain('after 1/2 uses');
    paused(await h.execute(resumed, POST, { text: 'once more' }));

    const active = json(await ccos('--json', 'grants', 'list')) as { grants: Grant[] };
    expect(active.grants).toEqual([]);
    const gone = json(await ccos('--json', 'grants', 'list', '--state', 'revoked')) as {
      grants: Grant[];
    };
    expect(gone.grants.map((g) => g.id)).toEqual([decided.grant.id]);
  });
});
