/**
 * Gateway throughput: authenticated `GET /v1/runs/{id}` on a real host (token check, run,
 * goals and pending approvals read from SQLite, zod-openapi validation, correlation id)
 * against a bare `node:http` handler returning the same JSON bytes. Both are loaded by
 * autocannon in this process with the same connections and duration, alternating rounds
 * so drift in the machine falls on both alike. Target: gateway ≥ 0.5× bare requests/s.
 */
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { startGatewayHost } from '../integration/gateway/helpers/gateway-host.ts';
import type { BenchResult, BenchRow } from './bench-result.ts';

const CONNECTIONS = 10;
const DURATION_S = 5;
const WARMUP_S = 2;
const ROUNDS = 2;
const TARGET_RATIO = 0.5;

/** The part of autocannon's API and result used here (the package ships no types). */
type LoadOptions = {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
};
type LoadResult = {
  requests: { average: number; total: number };
  latency: { average: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
};
const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as (options: LoadOptions) => Promise<LoadResult>;

type Totals = { requests: number; seconds: number; mean: number[]; p99: number[] };
const totals = (): Totals => ({ requests: 0, seconds: 0, mean: [], p99: [] });

export async function run(): Promise<BenchResult> {
  const gw = await startGatewayHost();
  let bare: Server | undefined;
  try {
    const created = await gw.request('POST', '/v1/runs', { json: { goal: 'benchmark run' } });
    const runId = (created.body as { id: string }).id;
    const gatewayUrl = `${gw.url}/v1/runs/${runId}`;
    const headers = { authorization: `Bearer ${gw.adminToken}` };
    const sample = await fetch(gatewayUrl, { headers });
    if (sample.status !== 200) throw new Error(`GET run answered ${sample.status}`);
    const body = Buffer.from(await sample.arrayBuffer());

    // The baseline: the same bytes, no routing, auth, validation or database.
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
    });
    bare = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const bareUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/runs/${runId}`;

    const load = async (url: string, duration: number): Promise<LoadResult> => {
      const result = await autocannon({ url, connections: CONNECTIONS, duration, headers });
      if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
        throw new Error(
          `${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
        );
      }
      return result;
    };
    await load(bareUrl, WARMUP_S);
    await load(gatewayUrl, WARMUP_S);

    const measured = { gateway: totals(), bare: totals(), health: totals() };
    const add = (t: Totals, r: LoadResult): void => {
      t.requests += r.requests.total;
      t.seconds += DURATION_S;
      t.mean.push(r.latency.average);
      t.p99.push(r.latency.p99);
    };
    for (let round = 0; round < ROUNDS; round++) {
      add(measured.bare, await load(bareUrl, DURATION_S));
      add(measured.gateway, await load(gatewayUrl, DURATION_S));
    }
    // For scale: the framework alone (no token, no database) on the same host.
    add(measured.health, await load(`${gw.url}/v1/health`, DURATION_S));

    const rps = (t: Totals) => t.requests / t.seconds;
    const worst = (xs: number[]) => Math.max(...xs);
    const average = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const { gateway, bare: baseline, health } = measured;
    const rows: BenchRow[] = [
      row('GET /v1/runs/{id} requests/s', rps(gateway), 'req/s', rps(baseline)),
      row('GET /v1/runs/{id} latency mean', average(gateway.mean), 'ms', average(baseline.mean)),
      row(
        'GET /v1/runs/{id} latency p99 (worst round)',
        worst(gateway.p99),
        'ms',
        worst(baseline.p99),
      ),
      row('GET /v1/health requests/s (no token, no db)', rps(health), 'req/s', rps(baseline)),
    ];
    const ratio = rps(gateway) / rps(baseline);
    return {
      suite: 'gateway',
      rows,
      notes: [
        `autocannon: ${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${DURATION_S} s each after a ${WARMUP_S} s warm-up; baseline = bare node:http returning the same ${body.length} bytes; load generator in the same process`,
        `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}, Node ${process.version}`,
        `throughput ratio ${ratio.toFixed(2)}× ${ratio >= TARGET_RATIO ? '≥' : '<'} target ${TARGET_RATIO.toFixed(1)}×`,
      ],
    };
  } finally {
    const server = bare;
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    }
    await gw.stop();
  }
}

function row(metric: string, value: number, unit: string, baseline: number): BenchRow {
  // autocannon reports latency in whole milliseconds: a 0 ms baseline has no ratio.
  return { metric, value, unit, baseline, ...(baseline > 0 ? { ratio: value / baseline } : {}) };
}
