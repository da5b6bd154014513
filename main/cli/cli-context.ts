import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { defaultDataDir } from '../config.ts';
import { AppError } from '../errors.ts';
import { ApiClient } from '../gateway-client/api-client.ts';
import { ADMIN_TOKEN_FILE, GATEWAY_INFO_FILE } from '../data-dir-files.ts';

/** Options every client verb accepts (declared once on the program). */
export type GlobalOptions = {
  dataDir?: string;
  url?: string;
  tokenFile?: string;
  json?: boolean;
};

const gatewayInfoSchema = z.object({ url: z.url(), pid: z.number().int().positive().optional() });

/**
 * How a verb reaches the running host: the URL from `--url`, `CCOS_URL` or the
 * `gateway.json` the host writes in its data dir; the admin token from `--token-file`,
 * `CCOS_TOKEN` or `admin.token` there.
 */
export async function connect(command: Command): Promise<{ client: ApiClient; json: boolean }> {
  const opts = command.optsWithGlobals<GlobalOptions>();
  const dataDir = opts.dataDir === undefined ? defaultDataDir() : userPath(opts.dataDir);
  const url = opts.url ?? process.env.CCOS_URL ?? (await readGatewayUrl(dataDir));
  const token =
    process.env.CCOS_TOKEN ??
    (await readToken(
      opts.tokenFile === undefined
        ? path.join(dataDir, ADMIN_TOKEN_FILE)
        : userPath(opts.tokenFile),
    ));
  return { client: new ApiClient(url, token), json: opts.json === true };
}

async function readGatewayUrl(dataDir: string): Promise<string> {
  const file = path.join(dataDir, GATEWAY_INFO_FILE);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) {
    throw new AppError(
      'HOST_UNREACHABLE',
      `no running host found: ${file} does not exist (a host writes it while it runs)`,
    );
  }
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch {
    info = undefined;
  }
  const parsed = gatewayInfoSchema.safeParse(info);
  if (!parsed.success)
    throw new AppError('HOST_UNREACHABLE', `${file} is damaged; start the host again`);
  // A host killed without stopping leaves its file behind: say so instead of a refused connection.
  if (parsed.data.pid !== undefined && !isAlive(parsed.data.pid)) {
    throw new AppError(
      'HOST_UNREACHABLE',
      `the host that wrote ${file} (pid ${parsed.data.pid}) is no longer running; it may have crashed`,
    );
  }
  return parsed.data.url;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else, so it is alive.
    return (e as { code?: unknown }).code === 'EPERM';
  }
}

/**
 * A path the user typed, resolved from the directory they typed it in: `npm run` starts
 * scripts in the project root, and says where the user was in `INIT_CWD`.
 */
export function userPath(p: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), p);
}

async function readToken(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) {
    throw new AppError(
      'UNAUTHORIZED',
      `cannot read the admin token at ${file}; pass --token-file or set CCOS_TOKEN`,
    );
  }
  return text.trim();
}

/** Prints `value` as JSON when asked, else as the human text `render` makes. */
export function print<T>(json: boolean, value: T, render: (v: T) => string): void {
  console.log(json ? JSON.stringify(value, null, 2) : render(value));
}

/** A plain text table: one row per item, columns padded. */
export function table(rows: readonly (readonly string[])[]): string {
  if (rows.length <= 1) return '(none)';
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
