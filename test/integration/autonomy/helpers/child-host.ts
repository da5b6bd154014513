import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN_FILE, GATEWAY_INFO_FILE } from '../../../../main/host.ts';
import { HOST_NODE_FLAGS } from '../../../../main/host-node-flags.ts';
import { cliArgs } from '../../gateway/helpers/run-cli.ts';
import { apiRequester, type ApiResponse } from './autonomy-host.ts';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const POLL_MS = 50;

/** `ccos serve` in its own process, as a person runs it: a host the test can SIGKILL. */
export type ChildHost = {
  child: ChildProcess;
  url: string;
  request: (method: string, urlPath: string, json?: unknown) => Promise<ApiResponse>;
  /** The host's direct children (its agent workers), from /proc. */
  workerPids: () => Promise<number[]>;
  stderr: () => string;
  /** SIGTERM (clean stop) or SIGKILL; resolves when the process has exited. */
  stop: (signal: NodeJS.Signals) => Promise<void>;
};

export async function startChildHost(options: {
  dataDir: string;
  llmSettingsFile: string;
  /** Start `dist/main/cli.js` (needs `tsc -b`): a soak restarting many times skips type stripping. */
  built?: boolean;
}): Promise<ChildHost> {
  const infoFile = path.join(options.dataDir, GATEWAY_INFO_FILE);
  const child = spawn(
    process.execPath,
    [
      ...(options.built === true
        ? cliArgs([])
        : [...HOST_NODE_FLAGS, path.join(REPO, 'main/cli.ts')]),
      '--data-dir',
      options.dataDir,
      'serve',
      '--port',
      '0',
      '--llm-settings',
      options.llmSettingsFile,
      '--allow-loopback-skills',
      // The jail where it works, the permission model on a machine without bubblewrap.
      '--unsafe-agents',
      '--log-level',
      'warn',
    ],
    { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = once(child, 'exit');
  const deadline = Date.now() + START_TIMEOUT_MS;
  let url: string | undefined;
  // The host writes gateway.json (its url and pid) once it listens.
  while (url === undefined) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`host exited during start-up: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`host did not start within ${START_TIMEOUT_MS} ms: ${stderr}`);
    }
    try {
      const info = JSON.parse(await readFile(infoFile, 'utf8')) as { url: string; pid: number };
      if (info.pid === child.pid) url = info.url;
    } catch {
      // Not written yet (or a stale file of a killed host).
    }
    if (url === undefined) await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const token = (await readFile(path.join(options.dataDir, ADMIN_TOKEN_FILE), 'utf8')).trim();
  const base = url;
  return {
    child,
    url: base,
    request: apiRequester(base, token),
    workerPids: async () => {
      // Every process whose parent is the host (field 4 of /proc/<pid>/stat).
      const pids: number[] = [];
      for (const name of await readdir('/proc')) {
        if (!/^\d+$/.test(name)) continue;
        const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === child.pid) pids.push(Number(name));
      }
      return pids;
    },
    stderr: () => stderr,
    stop: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
