import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../../contracts/api.ts';
import type { Run } from '../../../contracts/runs.ts';
import { startAutonomyHost } from '../autonomy/helpers/autonomy-host.ts';
import { startGatewayHost, type GatewayTestHost } from './helpers/gateway-host.ts';
import { runCli } from './helpers/run-cli.ts';

describe('a host with no LLM provider says why its runs wait', () => {
  let gw: GatewayTestHost;
  beforeAll(async () => {
    gw = await startGatewayHost();
  });
  afterAll(async () => {
    await gw.stop();
  });

  it('`runs create` warns on stderr, and the run says no_llm / llm_provider everywhere it is read', async () => {
    const created = await runCli(['--data-dir', gw.dataDir, 'runs', 'create', 'Say hello.']);
    expect(created.code).toBe(0);
    const id = /created (run_\S+) \(pending\)/.exec(created.stdout)?.[1];
    expect(id).toBeDefined();
    expect(created.stderr).toMatch(
      /^warning: run_\S+ will not start: no_llm: the host has no LLM provider configured.*--llm-settings/m,
    );

    const detail = (await gw.request('GET', `/v1/runs/${String(id)}`)).body as RunDetail;
    expect(detail.run).toMatchObject({ state: 'pending', waiting_for: 'llm_provider' });
    expect(detail.run.state_reason).toMatch(/^no_llm: /);
    const list = (await gw.request('GET', '/v1/runs?state=pending')).body as { runs: Run[] };
    expect(list.runs.find((r) => r.id === id)?.waiting_for).toBe('llm_provider');

    const show = await runCli(['--data-dir', gw.dataDir, 'runs', 'show', String(id)]);
    expect(show.stdout).toMatch(/^state {4}pending \(no_llm: /m);

    // Only pending runs wait for a provider: a cancelled one says why it was cancelled.
    const cancelled = await gw.request('POST', `/v1/runs/${String(id)}/cancel`, { json: {} });
    expect(cancelled.body).toMatchObject({ state: 'cancelled', waiting_for: null });
    expect((cancelled.body as Run).state_reason).not.toMatch(/no_llm/);
  });

  it('`--json` keeps stdout one document; the warning stays on stderr', async () => {
    const r = await runCli(['--data-dir', gw.dataDir, '--json', 'runs', 'create', 'Say hi.']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Run).waiting_for).toBe('llm_provider');
    expect(r.stderr).toContain('will not start');
  });
});

describe('a host with an LLM provider', () => {
  it('shows nothing of the sort on a new run', async () => {
    const host = await startAutonomyHost({
      transcript: { entries: [] },
      installEchoNotes: false,
    });
    try {
      const run = await host.createRun({ goal: 'Say hello.' });
      expect(run.waiting_for).toBeNull();
      expect(run.state_reason).toBeNull();
    } finally {
      await host.stop();
    }
  });
});
