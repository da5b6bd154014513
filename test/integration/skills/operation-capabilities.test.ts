import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../contracts/chain.ts';
import type { ToolCallOutcome } from '../../../contracts/agent-channel.ts';
import { NO_OPERATION_APPROVALS } from '../../support/test-policy-packs.ts';
import { startExecuteHost, type ExecuteTestHost } from '../execute/helpers/execute-host.ts';
import { manifest, operation } from '../execute/helpers/skill-folder.ts';
import { startTestServer, type TestServer } from './skill-test-kit.ts';

/**
 * Issue 17 #2: the bindings know which operation runs and refuse anything outside its
 * declared capabilities, although the manifest as a whole grants it. A `compute.pure`
 * operation used to egress and write memory freely. Real host, real isolate, real HTTP.
 */

const CODE = `
const fetchIt = (origin) => ccos.http.fetch({ url: origin + '/echo' });
export async function pure(input) { return await fetchIt(input.origin); }
export async function pureWrite() { await ccos.memory.put('notes', 'pure', 'x'); return 'wrote'; }
export async function reader() { await ccos.memory.put('notes', 'reader', 'x'); return 'wrote'; }
export async function readOnly() { return await ccos.memory.get('notes', 'seed'); }
export async function writer() { await ccos.memory.put('notes', 'writer', 'ok'); return 'wrote'; }
export async function fetcher(input) { return (await fetchIt(input.origin)).status; }
export async function logs() { await ccos.log('info', 'hello'); return await ccos.now() > 0; }
`;

let h: ExecuteTestHost;
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  h = await startExecuteHost({ allowLoopbackHttp: true });
  const originInput = {
    input_schema: { type: 'object' as const, properties: { origin: { type: 'string' } } },
  };
  await h.install(
    manifest(
      'caps',
      [
        operation('pure', { capabilities: ['compute.pure'], ...originInput }),
        operation('pureWrite', { capabilities: ['compute.pure'] }),
        operation('reader', { capabilities: ['memory.read'] }),
        operation('readOnly', { capabilities: ['memory.read'] }),
        operation('writer', { capabilities: ['memory.write'] }),
        operation('fetcher', { capabilities: ['net.http'], ...originInput }),
        operation('logs', { capabilities: ['compute.pure'] }),
      ],
      {
        egress: [{ origin: server.origin, methods: ['GET'] }],
        memory_namespaces: ['notes'],
      },
    ),
    CODE,
  );
});

afterAll(async () => {
  await h.stop();
  await server.close();
});

/** The chain entry that records a refused binding call; appended as the refusal happens. */
async function denial(operationId: string): Promise<ChainEntry> {
  for (;;) {
    const entries = await h.chain();
    const found = entries.find(
      (e) =>
        (e.data as { operation_id?: unknown }).operation_id === operationId && e.rule_id !== null,
    );
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function errorOf(outcome: ToolCallOutcome): { code: string; message: string } {
  if (outcome.status !== 'error')
    throw new Error(`expected an error, got ${JSON.stringify(outcome)}`);
  return outcome;
}

describe('operation capabilities are enforced by the bindings', () => {
  it('a compute.pure operation cannot egress, though the manifest declares the origin', async () => {
    server.requests.length = 0;
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    const f = errorOf(await h.execute(run, 'caps__pure', { origin: server.origin }));
    expect(f.code).toBe('CAPABILITY_DENIED');
    expect(f.message).toMatch(/caps\.pure.*net\.http/);
    expect(server.requests).toEqual([]);
    const entry = await denial('pure');
    expect(entry.event_type).toBe('egress.attempt');
    expect(entry.rule_id).toBe('operation.capabilities');
    expect(entry.data).toMatchObject({
      outcome: 'denied',
      code: 'CAPABILITY_DENIED',
      needs: 'net.http',
    });
  });

  it('a compute.pure or memory.read operation cannot write memory', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    for (const op of ['pureWrite', 'reader']) {
      const f = errorOf(await h.execute(run, `caps__${op}`, {}));
      expect(f.code).toBe('CAPABILITY_DENIED');
      const entry = await denial(op);
      expect(entry.event_type).toBe('memory.write');
      expect(entry.rule_id).toBe('operation.capabilities');
    }
    expect(await h.skillMemory('caps').get('notes', 'pure')).toBeNull();
    expect(await h.skillMemory('caps').get('notes', 'reader')).toBeNull();
  });

  it('operations that declared the capability still work; log and now need none', async () => {
    const run = await h.runningRun(undefined, NO_OPERATION_APPROVALS.id);
    expect(await h.execute(run, 'caps__writer', {})).toEqual({ status: 'ok', output: 'wrote' });
    expect(await h.skillMemory('caps').get('notes', 'writer')).toBe('ok');
    expect(await h.execute(run, 'caps__readOnly', {})).toEqual({ status: 'ok', output: null });
    expect(await h.execute(run, 'caps__fetcher', { origin: server.origin })).toEqual({
      status: 'ok',
      output: 200,
    });
    expect(await h.execute(run, 'caps__logs', {})).toEqual({ status: 'ok', output: true });
  });
});
