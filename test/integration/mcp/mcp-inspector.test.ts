import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_TRUSTED_CLIENT } from '../../support/test-policy-packs.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { startGatewayHost, type GatewayTestHost } from '../gateway/helpers/gateway-host.ts';
import { chainEntry, putConnector, runsOf } from './mcp-helpers.ts';

/** The Inspector's own launcher (its `mcp-inspector` bin), resolved from its package. */
const INSPECTOR = path.join(
  path.dirname(
    createRequire(import.meta.url).resolve('@modelcontextprotocol/inspector/package.json'),
  ),
  'clients/launcher/build/index.js',
);
const LOOPBACK_ONLY = path.resolve(import.meta.dirname, 'fixtures/loopback-only.mjs');

/** Bounds a hang of the child; not a speed check. */
const INSPECTOR_TIMEOUT_MS = 60_000;

type Inspected = { code: number; stdout: string; stderr: string };

/** The method's result in the Inspector's `--format json` output. */
function resultOf(inspected: Inspected): unknown {
  return (JSON.parse(inspected.stdout) as { result: unknown }).result;
}

describe('the MCP Inspector (a client nobody here wrote) against a real host (issue 25)', () => {
  let gw: GatewayTestHost;
  let home: string;
  let token: string;
  beforeAll(async () => {
    // Shown echo's results (no output label: unknown personal data) and trusted, explicitly.
    gw = await startGatewayHost({ policyPacks: [MCP_TRUSTED_CLIENT] });
    home = await makeTempDir('ccos-inspector-home-');
    const installed = await gw.request('POST', '/v1/skills', {
      json: { path: path.resolve('plugins/echo-notes') },
    });
    expect(installed.status, installed.text).toBe(201);
    await putConnector(gw, 'inspector', { allowed_packs: [MCP_TRUSTED_CLIENT.id] });
    ({ token } = await gw.connector('inspector', ['mcp']));
  });
  afterAll(async () => {
    await gw.stop();
    await removeTempDir(home);
  });

  /** `mcp-inspector --cli <url>/mcp --transport http --header … <args>` as a child process. */
  const inspect = (
    args: readonly string[],
    bearer = token,
    target = { url: `${gw.url}/mcp` },
  ): Promise<Inspected> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [
          `--import=${LOOPBACK_ONLY}`,
          INSPECTOR,
          '--cli',
          target.url,
          '--transport',
          'http',
          '--header',
          `Authorization: Bearer ${bearer}`,
          '--format',
          'json',
          ...args,
        ],
        {
          // Nothing of the developer's: its catalog, stored OAuth state and client config
          // live in a fresh home, and no proxy or debug setting is inherited.
          env: {
            PATH: process.env.PATH,
            HOME: home,
            MCP_STORAGE_DIR: path.join(home, 'storage'),
            MCP_CATALOG_PATH: path.join(home, 'mcp.json'),
            MCP_CLIENT_CONFIG_PATH: path.join(home, 'client.json'),
            NO_COLOR: '1',
          },
          timeout: INSPECTOR_TIMEOUT_MS,
        },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          resolve({ code, stdout, stderr });
        },
      );
    });

  it('lists the bundled skill’s tools with their schemas', async () => {
    const listed = await inspect(['--method', 'tools/list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stderr).not.toContain('loopback-only');
    const { tools } = resultOf(listed) as { tools: { name: string; inputSchema: unknown }[] };
    const echo = tools.find((t) => t.name === 'echo-notes__echo');
    expect(echo?.inputSchema).toMatchObject({ type: 'object', required: ['text'] });
  });

  it('calls the bundled skill through the execute pipeline, in a run of its own', async () => {
    const called = await inspect([
      '--method',
      'tools/call',
      '--tool-name',
      'echo-notes__echo',
      '--tool-arg',
      'text=from the inspector',
    ]);
    expect(called.code, called.stderr).toBe(0);
    expect(resultOf(called)).toMatchObject({ structuredContent: { text: 'from the inspector' } });
    const executed = await gw.chain('skill.execute');
    const runs = await runsOf(gw, 'inspector');
    const ran = executed.filter((e) => runs.some((r) => r.id === e.run_id));
    expect(ran.map((e) => [e.actor, e.data.outcome])).toContainEqual(['connector:inspector', 'ok']);
  });

  it('is refused without a valid token, and the refusal is audited', async () => {
    const refused = await inspect(['--method', 'tools/list'], 'not-a-token');
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).not.toContain('echo-notes__echo');
    const denied = await chainEntry(
      gw,
      (e) => e.event_type === 'auth.denied' && e.data.path === '/mcp',
    );
    expect(denied.actor).toBe('anonymous');
  });

  it('cannot reach anything but 127.0.0.1: a remote server is refused before any packet', async () => {
    // TEST-NET-1 (RFC 5737): routed nowhere; without the guard this would hang to the timeout.
    const remote = await inspect(['--method', 'tools/list', '--connect-timeout', '0'], token, {
      url: 'http://192.0.2.1/mcp',
    });
    expect(remote.code).not.toBe(0);
    expect(remote.stderr).toContain('loopback-only: refused a connection to 192.0.2.1');
  });
});
