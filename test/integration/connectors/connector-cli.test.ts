import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayHost, type GatewayTestHost } from '../gateway/helpers/gateway-host.ts';
import { runCli } from '../gateway/helpers/run-cli.ts';

/** `ccos connectors add|list|show|test|remove` against a real host, as a child process. */
describe('ccos connectors', () => {
  let gw: GatewayTestHost;
  const cli = (...args: string[]) => runCli(['--data-dir', gw.dataDir, ...args]);

  beforeAll(async () => {
    gw = await startGatewayHost();
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('adds a webhook connector with its secret shown once, tests it, shows it and removes it', async () => {
    const added = await cli(
      'connectors',
      'add',
      'hook',
      '--goal',
      'Answer',
      '--mention',
      'ccos',
      '--json',
    );
    expect(added.code).toBe(0);
    const result = JSON.parse(added.stdout) as {
      secret: string | null;
      config: { adapter: string };
    };
    expect(result.config.adapter).toBe('webhook');
    expect(result.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Configured again: the secret is kept and not shown a second time.
    const again = JSON.parse(
      (await cli('connectors', 'add', 'hook', '--goal', 'Answer', '--json')).stdout,
    ) as {
      secret: string | null;
    };
    expect(again.secret).toBeNull();

    const listed = await cli('connectors', 'list');
    expect(listed.stdout).toMatch(/hook\s+webhook\s+hmac/);
    const tested = await cli('connectors', 'test', 'hook', '--json');
    expect(tested.code).toBe(0);
    const checks = (JSON.parse(tested.stdout) as { checks: { check: string; ok: boolean }[] })
      .checks;
    expect(checks.map((c) => [c.check, c.ok])).toEqual([
      ['proof accepted', true],
      ['forged proof refused', true],
      ['parse', true],
      ['direct message activates', true],
    ]);
    const shown = await cli('connectors', 'show', 'hook');
    expect(shown.stdout).toContain('health    ok');
    expect((await cli('connectors', 'remove', 'hook')).code).toBe(0);
    expect((await cli('connectors', 'show', 'hook')).code).not.toBe(0);
    expect((await gw.started.secrets.names()).filter((n) => n.startsWith('CONNECTOR_'))).toEqual(
      [],
    );
  });

  it('configures a webhook’s outbound URL with --outbound-url, and refuses one the egress rule refuses', async () => {
    const added = await cli(
      'connectors',
      'add',
      'out',
      '--goal',
      'Answer',
      '--outbound-url',
      'https://example.com/hook',
    );
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('outbound https://example.com/hook');
    const refused = await cli(
      'connectors',
      'add',
      'plain',
      '--goal',
      'Answer',
      '--outbound-url',
      'http://example.com/hook',
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('outbound_url');
    expect((await cli('connectors', 'remove', 'out')).code).toBe(0);
  });
});
