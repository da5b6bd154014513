import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../../contracts/api.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { startGatewayHost, type GatewayTestHost } from './helpers/gateway-host.ts';
import { runCli, type CliResult } from './helpers/run-cli.ts';

const RULE = { some: [{ var: 'steps' }, { '==': [{ var: 'outcome' }, 'ok'] }] };

describe('runs create sets completion predicates', () => {
  let gw: GatewayTestHost;
  let cwd: string;
  const ccos = (...args: string[]): Promise<CliResult> =>
    // INIT_CWD is where `npm run` was typed: relative paths are read from there.
    runCli(['--data-dir', gw.dataDir, ...args], { INIT_CWD: cwd });
  beforeAll(async () => {
    gw = await startGatewayHost();
    cwd = await makeTempDir('ccos-cli-until-');
    await writeFile(path.join(cwd, 'rule.json'), JSON.stringify(RULE));
    await writeFile(path.join(cwd, 'list.json'), '[1, 2]');
  });
  afterAll(async () => {
    await gw.stop();
    await removeTempDir(cwd);
  });

  const completionOf = async (r: CliResult) => {
    expect(r.code, r.stderr).toBe(0);
    const { id } = JSON.parse(r.stdout) as { id: string };
    return ((await gw.request('GET', `/v1/runs/${id}`)).body as RunDetail).run.completion;
  };

  it('--until capability:<tool> and --until-json-logic FILE (relative to where it was typed)', async () => {
    expect(
      await completionOf(
        await ccos('--json', 'runs', 'create', 'g', '--until', 'capability:echo-notes__echo'),
      ),
    ).toEqual({ kind: 'capability_succeeded', capability_id: 'echo-notes__echo' });
    expect(
      await completionOf(
        await ccos('--json', 'runs', 'create', 'g', '--until-json-logic', 'rule.json'),
      ),
    ).toEqual({ kind: 'json_logic', rule: RULE });
  });

  it.each([
    [['--until', 'done-when-done'], /--until takes capability:<tool>/],
    [['--until', 'capability:'], /--until takes capability:<tool>/],
    [['--until-json-logic', 'missing.json'], /--until-json-logic: cannot read missing\.json/],
    [['--until-json-logic', 'list.json'], /must hold one JSON Logic rule/],
    [['--until', 'capability:x', '--until-json-logic', 'rule.json'], /not both/],
  ])(
    '%j is a usage error (exit 2) saying what to pass, and creates nothing',
    async (args, message) => {
      const before = (await gw.request('GET', '/v1/runs')).body as { runs: unknown[] };
      const r = await ccos('runs', 'create', 'g', ...args);
      expect(r.code).toBe(2);
      // The first line says what is wrong (commander may add the verb's usage after it).
      expect(r.stderr.split('\n')[0]).toMatch(message);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      const after = (await gw.request('GET', '/v1/runs')).body as { runs: unknown[] };
      expect(after.runs).toHaveLength(before.runs.length);
    },
  );
});
