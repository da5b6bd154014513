import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { IsolatedVmSandbox } from '../../../main/skills/sandbox/isolated-vm-sandbox.ts';
import type {
  SkillAuditEvent,
  SkillLogEntry,
  SkillMemory,
  SkillRef,
} from '../../../main/skills/bindings/skill-host-deps.ts';
import { SkillRegistry } from '../../../main/skills/registry/skill-registry.ts';
import type { SandboxLimits } from '../../../main/skills/sandbox/skill-sandbox.ts';
import { projectPath } from '../../support/project-path.ts';

export const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/skills');
export const PLUGINS = projectPath('plugins');
export const CAPABILITIES = new Set(['compute.pure', 'memory.read', 'memory.write', 'net.http']);

/**
 * A small, real `SkillMemory`: values are stored as JSON text, like the store does; each
 * write's audit event goes to `onAudit`, as the store commits it with the write.
 */
export class MapSkillMemory implements SkillMemory {
  readonly data = new Map<string, string>();
  readonly #onAudit: (event: SkillAuditEvent) => void;

  constructor(onAudit: (event: SkillAuditEvent) => void = () => undefined) {
    this.#onAudit = onAudit;
  }

  get(owner: SkillRef, namespace: string, key: string): Promise<unknown> {
    const raw = this.data.get(`${owner.skill_id}/${namespace}/${key}`);
    return Promise.resolve(raw === undefined ? undefined : (JSON.parse(raw) as unknown));
  }

  put(
    owner: SkillRef,
    namespace: string,
    key: string,
    value: unknown,
    audit: SkillAuditEvent,
  ): Promise<void> {
    this.data.set(`${owner.skill_id}/${namespace}/${key}`, JSON.stringify(value));
    this.#onAudit(audit);
    return Promise.resolve();
  }
}

export type Recorded = { method: string; url: string; headers: IncomingHttpHeaders; body: string };

/** A real HTTP server on 127.0.0.1 with the routes the egress tests need; it records every request. */
export type TestServer = { origin: string; requests: Recorded[]; close: () => Promise<void> };

export async function startTestServer(): Promise<TestServer> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/redirect') {
        res.writeHead(302, { location: url.searchParams.get('to') ?? '/' }).end();
      } else if (url.pathname === '/big') {
        res
          .writeHead(200, { 'content-type': 'text/plain' })
          .end('y'.repeat(Number(url.searchParams.get('n') ?? '1000')));
      } else if (url.pathname === '/slow') {
        setTimeout(
          () => res.writeHead(200).end('late'),
          Number(url.searchParams.get('ms') ?? '1000'),
        );
      } else {
        res.writeHead(200, {
          'content-type': 'application/json',
          'x-echo-auth': req.headers.authorization ?? '',
        });
        res.end(JSON.stringify({ method: req.method, headers: req.headers, body }));
      }
    });
  });
  return { ...(await listenOnLoopback(server)), requests };
}

/** Copies a fixture skill folder to a temporary folder, filling `{{NAME}}` placeholders. */
export async function prepareSkill(
  from: string,
  vars: Record<string, string> = {},
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ccos-skill-'));
  const dir = path.join(root, path.basename(from));
  await cp(from, dir, { recursive: true });
  for (const name of await readdir(dir)) {
    const file = path.join(dir, name);
    let text = await readFile(file, 'utf8');
    for (const [k, v] of Object.entries(vars)) text = text.replaceAll(`{{${k}}}`, v);
    await writeFile(file, text);
  }
  return { dir, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export type Kit = {
  registry: SkillRegistry;
  memory: MapSkillMemory;
  audits: SkillAuditEvent[];
  logs: SkillLogEntry[];
  secrets: Map<string, string>;
};

/** A registry over real isolates with recording host dependencies. */
export function makeKit(limits: Partial<SandboxLimits> = {}, httpTimeoutMs = 2_000): Kit {
  const audits: SkillAuditEvent[] = [];
  const memory = new MapSkillMemory((e) => audits.push(e));
  const logs: SkillLogEntry[] = [];
  const secrets = new Map<string, string>();
  const registry = new SkillRegistry({
    sandbox: new IsolatedVmSandbox({
      limits: { callTimeoutMs: 1_000, memoryLimitMb: 16, ...limits },
    }),
    policy: { capabilities: CAPABILITIES, allowLoopbackHttp: true },
    host: {
      memory,
      secrets: (name) => Promise.resolve(secrets.get(name)),
      log: (e) => {
        logs.push(e);
      },
      audit: (e) => {
        audits.push(e);
      },
    },
    httpLimits: { timeoutMs: httpTimeoutMs, maxResponseBytes: 64 * 1024 },
  });
  return { registry, memory, audits, logs, secrets };
}

/** Listens on a free port of 127.0.0.1; `close` drops open connections and stops the server. */
export async function listenOnLoopback(
  server: Server,
): Promise<{ origin: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
