/**
 * The jail's escape suite (issue 20, docs/agent-jail.md): a hostile worker, started through
 * the real spawners and speaking the real channel, tries one escape per test against each
 * configuration — Node's permission model only, bubblewrap only (permission model off),
 * and both (what the host runs). `EXPECTED` is the table in docs/agent-jail.md; each test
 * proves its cell from the target's side (the server counted no connection, the file is
 * not there, the host got no signal) and, when the worker lived, that its channel still
 * answered after the attempt. The permission-model column shows attempts that do get
 * through, so these tests can fail.
 */
import { channel as diagnosticsChannel } from 'node:diagnostics_channel';
import dgram from 'node:dgram';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ADMIN_TOKEN_FILE, SECRET_KEY_FILE } from '../../../../main/host.ts';
import { DATABASE_FILE } from '../../../../main/store/open-store.ts';
import { projectPath } from '../../../support/project-path.ts';
import { nativeAddonPath } from '../../../support/native-addon.ts';
import { startGatewayHost, type GatewayTestHost } from '../../gateway/helpers/gateway-host.ts';
import {
  FIXTURES,
  HOSTILE_WORKER,
  JAIL_CONFIGS,
  describeWithJail,
  runHostile,
  spawnerFor,
  startVictim,
  type HostileResult,
  type JailConfig,
} from './jail-kit.ts';

/** `reached`: the escape got through; `blocked`: it failed and the worker lived; `killed`: the jail ended the worker. */
type Cell = 'reached' | 'blocked' | 'killed';
type Row = Record<JailConfig, Cell>;
const row = (permission_model: Cell, bwrap: Cell, both: Cell): Row => ({
  permission_model,
  bwrap,
  both,
});

/** The table of docs/agent-jail.md: attempt × configuration. */
const EXPECTED: Record<string, Row> = {
  tcp_local: row('reached', 'blocked', 'blocked'),
  tcp_gateway: row('reached', 'blocked', 'blocked'),
  dns: row('reached', 'blocked', 'blocked'),
  udp: row('reached', 'blocked', 'blocked'),
  abstract_socket: row('reached', 'blocked', 'blocked'),
  read_data_dir: row('blocked', 'blocked', 'blocked'),
  read_other_environ: row('blocked', 'blocked', 'blocked'),
  write_files: row('blocked', 'blocked', 'blocked'),
  signal_host: row('reached', 'blocked', 'blocked'),
  spawn_shell: row('blocked', 'blocked', 'blocked'),
  worker_thread: row('blocked', 'killed', 'blocked'),
  native_addon: row('blocked', 'blocked', 'blocked'),
  fork_bomb: row('blocked', 'blocked', 'blocked'),
  allocate_buffers: row('reached', 'blocked', 'blocked'),
  exhaust_heap: row('killed', 'killed', 'killed'),
  spin_cpu: row('reached', 'killed', 'killed'),
};

/** The CPU limit the suite gives jailed workers, so the spin attempt ends quickly. */
const CPU_SECONDS = 2;

/** What the hostile worker's outcome says about its cell. */
function cellOf(result: HostileResult): Cell {
  const report = result.reports[0];
  if (report === undefined) return 'killed';
  return report.reached ? 'reached' : 'blocked';
}

/** A worker that lived reported once, and its channel answered again after the attempt. */
function expectChannelSurvived(result: HostileResult): void {
  expect(result.reports, result.stderr).toHaveLength(1);
  expect(result.sessionCalls).toBe(2);
  expect(result.exit).toEqual({ code: 0, signal: null });
}

/** Counts connections a TCP or Unix server accepts. */
async function countingServer(
  listen: (server: net.Server) => void,
  cleanups: (() => Promise<void>)[],
): Promise<{ server: net.Server; accepted: () => number }> {
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => {
    server.once('listening', resolve);
    listen(server);
  });
  cleanups.push(
    () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  );
  return { server, accepted: () => accepted };
}

/**
 * A UDP socket on 127.0.0.1 that records what it receives; a DNS query is answered with
 * REFUSED so a resolver that reached it learns so at once.
 */
async function udpServer(cleanups: (() => Promise<void>)[]): Promise<{
  port: number;
  received: Buffer[];
  /** Sends a marker datagram from the test and resolves once it came back through the socket. */
  flush: () => Promise<void>;
  next: () => Promise<Buffer>;
}> {
  const socket = dgram.createSocket('udp4');
  const received: Buffer[] = [];
  const waiters: ((b: Buffer) => void)[] = [];
  const marker = Buffer.from(`marker-${randomUUID()}`);
  socket.on('message', (msg, from) => {
    if (msg.length >= 12 && !msg.equals(marker)) {
      // DNS: the query itself (id and question) with QR set and RCODE=REFUSED (5), no answers.
      const reply = Buffer.from(msg);
      reply[2] = 0x81;
      reply[3] = 0x85;
      socket.send(reply, from.port, from.address);
    }
    if (!msg.equals(marker)) received.push(msg);
    for (const w of waiters.splice(0)) w(msg);
  });
  await new Promise<void>((resolve) => {
    socket.bind(0, '127.0.0.1', resolve);
  });
  cleanups.push(
    () =>
      new Promise((resolve) => {
        socket.close(() => {
          resolve();
        });
      }),
  );
  const next = (): Promise<Buffer> =>
    new Promise((resolve) => {
      waiters.push(resolve);
    });
  return {
    port: socket.address().port,
    received,
    next,
    // Datagrams on loopback arrive in the order they were sent; anything the worker got
    // through before its report is in the socket's queue ahead of this marker.
    flush: async () => {
      const sender = dgram.createSocket('udp4');
      const seen = new Promise<void>((resolve) => {
        const wait = (msg: Buffer): void => {
          if (msg.equals(marker)) resolve();
          else waiters.push(wait);
        };
        waiters.push(wait);
      });
      sender.send(marker, socket.address().port, '127.0.0.1', () => {
        sender.close();
      });
      await seen;
    },
  };
}

/** The pids of a process and all its descendants (a jailed worker is bwrap's grandchild). */
function processTree(pid: number): number[] {
  const out = [pid];
  for (const task of safeReaddir(`/proc/${String(pid)}/task`)) {
    const children = safeRead(`/proc/${String(pid)}/task/${task}/children`).trim();
    for (const child of children === '' ? [] : children.split(/\s+/)) {
      out.push(...processTree(Number(child)));
    }
  }
  return out;
}
function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

describeWithJail('agent jail escape suite', (jail) => {
  let gateway: GatewayTestHost;
  const cleanups: (() => Promise<void>)[] = [];
  let signals = 0;
  const onSignal = (): void => {
    signals++;
  };
  /** Connections the gateway's own server accepted (Node publishes each on this channel). */
  let gatewayAccepts = 0;
  const onServerSocket = (message: unknown): void => {
    const socket = (message as { socket?: net.Socket }).socket;
    if (socket?.localPort === gateway.started.gateway.port) gatewayAccepts++;
  };

  beforeAll(async () => {
    gateway = await startGatewayHost();
    process.on('SIGUSR2', onSignal);
    diagnosticsChannel('net.server.socket').subscribe(onServerSocket);
  });
  afterAll(async () => {
    diagnosticsChannel('net.server.socket').unsubscribe(onServerSocket);
    process.off('SIGUSR2', onSignal);
    await gateway.stop();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const hostile = (config: JailConfig) =>
    spawnerFor(config, jail, HOSTILE_WORKER, { cpuSeconds: CPU_SECONDS });

  for (const config of JAIL_CONFIGS) {
    const expected = (attempt: string): Cell => {
      const cell = EXPECTED[attempt]?.[config];
      if (cell === undefined) throw new Error(`no expectation for ${attempt}`);
      return cell;
    };

    it(`[${config}] TCP to a server on 127.0.0.1: ${expected('tcp_local')}`, async () => {
      const target = await countingServer((s) => s.listen(0, '127.0.0.1'), cleanups);
      const port = (target.server.address() as net.AddressInfo).port;
      const result = await runHostile(hostile(config), 'tcp_local', { port }, cleanups);
      expectChannelSurvived(result);
      expect(cellOf(result)).toBe(expected('tcp_local'));
      if (expected('tcp_local') === 'reached') await expect.poll(target.accepted).toBe(1);
      else expect(target.accepted()).toBe(0);
    });

    it(`[${config}] TCP to the gateway's own port: ${expected('tcp_gateway')}`, async () => {
      const before = gatewayAccepts;
      const port = gateway.started.gateway.port;
      const result = await runHostile(hostile(config), 'tcp_gateway', { port }, cleanups);
      expectChannelSurvived(result);
      expect(cellOf(result)).toBe(expected('tcp_gateway'));
      if (expected('tcp_gateway') === 'reached') {
        expect(result.reports[0]?.detail).toMatch(/^HTTP\/1\.1 200/);
        expect(gatewayAccepts).toBeGreaterThan(before);
      } else {
        expect(gatewayAccepts).toBe(before);
      }
    });

    it(`[${config}] resolve a name: ${expected('dns')}`, async () => {
      const dns = await udpServer(cleanups);
      const result = await runHostile(hostile(config), 'dns', { port: dns.port }, cleanups);
      expectChannelSurvived(result);
      expect(cellOf(result)).toBe(expected('dns'));
      await dns.flush();
      if (expected('dns') === 'reached') expect(dns.received.length).toBeGreaterThan(0);
      else expect(dns.received).toEqual([]);
    });

    it(`[${config}] send UDP: ${expected('udp')}`, async () => {
      const udp = await udpServer(cleanups);
      const arrived = udp.next();
      const result = await runHostile(hostile(config), 'udp', { port: udp.port }, cleanups);
      expectChannelSurvived(result);
      if (expected('udp') === 'reached') {
        expect((await arrived).toString()).toBe('escape');
        expect(cellOf(result)).toBe('reached');
      } else {
        // Inside the jail a send "succeeds" into its own empty network, or the socket is
        // refused outright; either way nothing may arrive here.
        await udp.flush();
        expect(udp.received).toEqual([]);
      }
    });

    it(`[${config}] reach the host through an abstract Unix socket: ${expected('abstract_socket')}`, async () => {
      const socketPath = `\0ccos-escape-${randomUUID()}`;
      const target = await countingServer((s) => s.listen(socketPath), cleanups);
      const result = await runHostile(hostile(config), 'abstract_socket', { socketPath }, cleanups);
      expectChannelSurvived(result);
      expect(cellOf(result)).toBe(expected('abstract_socket'));
      if (expected('abstract_socket') === 'reached') await expect.poll(target.accepted).toBe(1);
      else expect(target.accepted()).toBe(0);
    });

    it(`[${config}] read the data directory, admin.token, secret.key and the database: ${expected('read_data_dir')}`, async () => {
      const dir = gateway.dataDir;
      const files = [ADMIN_TOKEN_FILE, SECRET_KEY_FILE, DATABASE_FILE].map((f) =>
        path.join(dir, f),
      );
      for (const f of files) expect(existsSync(f)).toBe(true);
      const result = await runHostile(
        hostile(config),
        'read_data_dir',
        { dataDir: dir, files },
        cleanups,
      );
      expectChannelSurvived(result);
      expect(cellOf(result)).toBe(expected('read_data_dir'));
      expect(result.reports[0]?.detail).not.toContain('bytes');
      expect(result.reports[0]?.detail).not.toContain(gateway.adminToken);
    });

    it(`[${config}] read another worker's /proc/<pid>/environ: ${expected('read_other_environ')}`, async () => {
      // Its token never enters a worker's environment (it comes over stdin), so the victim is
      // given another secret there, which is what the attempt looks for.
      const secret = `victim-secret-${randomUUID()}`;
      const victim = startVictim(
        spawnerFor(config, jail, path.join(FIXTURES, 'hanging-worker.ts')),
        `victim-token-${randomUUID()}`,
        cleanups,
        { CCOS_FIXTURE_VICTIM_SECRET: secret },
      );
      // The victim's first channel message means its process (and environment) exists.
      await new Promise((resolve) => victim.stdout.once('data', resolve));
      const pids = processTree(victim.pid);
      const result = await runHostile(
        hostile(config),
        'read_other_environ',
        { pids, secret },
        cleanups,
      );
      expectChannelSurvived(result);
      expect(cellOf(result)).toBe(expected('read_other_environ'));
      expect(result.reports[0]?.detail).not.toContain('token found');
      // The control: the victim's environment does hold the secret, for a reader outside.
      expect(pids.some((pid) => safeRead(`/proc/${String(pid)}/environ`).includes(secret))).toBe(
        true,
      );
    });

    it(`[${config}] write into the project directory and /tmp: ${expected('write_files')}`, async () => {
      const name = `ccos-escape-${randomUUID()}.txt`;
      const writeTargets = [projectPath(name), path.join(tmpdir(), name)];
      cleanups.push(async () => {
        for (const t of writeTargets) await rm(t, { force: true });
      });
      const result = await runHostile(hostile(config), 'write_files', { writeTargets }, cleanups);
      expectChannelSurvived(result);
      for (const t of writeTargets) expect(existsSync(t)).toBe(false);
    });

    it(`[${config}] signal the host (its parent, and the host's real pid): ${expected('signal_host')}`, async () => {
      const before = signals;
      const result = await runHostile(
        hostile(config),
        'signal_host',
        { hostPid: process.pid },
        cleanups,
      );
      expectChannelSurvived(result);
      expect(cellOf(result)).toBe(expected('signal_host'));
      if (expected('signal_host') === 'reached')
        await expect.poll(() => signals).toBeGreaterThan(before);
      else expect(signals).toBe(before);
    });

    it(`[${config}] spawn sh, child_process.exec and node: ${expected('spawn_shell')}`, async () => {
      const marker = path.join(tmpdir(), `ccos-spawned-${randomUUID()}`);
      const result = await runHostile(
        hostile(config),
        'spawn_shell',
        { writeTargets: [marker] },
        cleanups,
      );
      expectChannelSurvived(result);
      expect(cellOf(result)).toBe(expected('spawn_shell'));
      expect(existsSync(marker)).toBe(false);
    });

    it(`[${config}] start a worker thread: ${expected('worker_thread')}`, async () => {
      const result = await runHostile(hostile(config), 'worker_thread', {}, cleanups);
      expect(cellOf(result)).toBe(expected('worker_thread'));
      // Without the permission model the thread's new V8 isolate cannot reserve its code
      // space under the jail's memory limit, and V8 ends the process.
      if (expected('worker_thread') === 'killed')
        expect(result.stderr).toContain('Fatal process out of memory');
      else expectChannelSurvived(result);
    });

    it(`[${config}] load a native addon: ${expected('native_addon')}`, async () => {
      const addon = nativeAddonPath();
      expect(existsSync(addon)).toBe(true);
      const result = await runHostile(hostile(config), 'native_addon', { addon }, cleanups);
      expectChannelSurvived(result);
      expect(cellOf(result)).toBe(expected('native_addon'));
    });

    it(`[${config}] fork-bomb: ${expected('fork_bomb')}`, async () => {
      const result = await runHostile(hostile(config), 'fork_bomb', { children: 64 }, cleanups);
      expectChannelSurvived(result);
      expect(cellOf(result)).toBe(expected('fork_bomb'));
      expect(result.reports[0]?.detail).toMatch(/^0 of 64 started/);
    });

    it(`[${config}] allocate 1.5 GiB of buffers: ${expected('allocate_buffers')}`, async () => {
      const result = await runHostile(hostile(config), 'allocate_buffers', {}, cleanups);
      expectChannelSurvived(result);
      expect(cellOf(result)).toBe(expected('allocate_buffers'));
    });

    it(`[${config}] grow the heap without bound: ${expected('exhaust_heap')}`, async () => {
      const result = await runHostile(hostile(config), 'exhaust_heap', {}, cleanups);
      expect(cellOf(result)).toBe('killed');
      expect(result.exit.code === 0 && result.exit.signal === null).toBe(false);
      expect(result.stderr).toContain('heap out of memory');
    });

    it(`[${config}] spin past the CPU limit: ${expected('spin_cpu')}`, async () => {
      const result = await runHostile(
        hostile(config),
        'spin_cpu',
        { cpuSeconds: CPU_SECONDS },
        cleanups,
      );
      expect(cellOf(result)).toBe(expected('spin_cpu'));
      if (expected('spin_cpu') === 'killed') expect(result.exit.signal).toBe('SIGXCPU');
      else expectChannelSurvived(result);
    });
  }
});
