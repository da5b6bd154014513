import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { BubblewrapSpawner } from './bubblewrap-spawner.ts';
import type { JailTools } from './jail-args.ts';

const run = promisify(execFile);

/** What start-up found: a jail that works here, or why not and what a person can do. */
export type JailDetection =
  | {
      ok: true;
      tools: JailTools;
      version: string;
      seccomp: boolean;
      /** Something a person should know about this jail (logged as a warning), or null. */
      warning: string | null;
    }
  | { ok: false; reason: string; fix: string };

export type DetectJailOptions = {
  /** The bubblewrap program: an absolute path, or a name looked up in `PATH` (default `bwrap`). */
  bwrap?: string;
  /** The Node binary workers run on (default: the host's own). */
  node?: string;
  /** Where to look for programs (default: the host's `PATH`). */
  searchPath?: string;
  platform?: NodeJS.Platform;
};

/** The user a root host runs jails as (Debian's and most distributions' `nobody`). */
const NOBODY = { uid: 65534, gid: 65534 };
/** Where prlimit lives when the host's PATH is minimal. */
const SYSTEM_BIN = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];

const UNSAFE_HINT =
  "or start the host with --unsafe-agents to run agents under Node's permission model alone, which does not confine the network or signals";

/**
 * Finds out whether agent workers can be jailed on this machine (ARCHITECTURE.md §8): bwrap
 * and prlimit present, the libraries of the Node binary and of prlimit known (both run in
 * the jail), and a real jail — the workers' binds, filter and limits — started once (which
 * fails where user namespaces are off or restricted, or bwrap is too old). Never throws: a
 * failure says why and how to fix it.
 */
export async function detectJail(options: DetectJailOptions = {}): Promise<JailDetection> {
  const platform = options.platform ?? process.platform;
  if (platform !== 'linux') {
    return {
      ok: false,
      reason: `agent workers can be jailed only on Linux (bubblewrap); this host runs on ${platform}`,
      fix: `run the host on Linux with bubblewrap installed, ${UNSAFE_HINT}`,
    };
  }
  const searchPath = options.searchPath ?? process.env.PATH ?? '';
  const bwrap = findProgram(options.bwrap ?? 'bwrap', searchPath.split(delimiter));
  if (bwrap === null) {
    return {
      ok: false,
      reason: `bubblewrap is not installed (no ${options.bwrap ?? 'bwrap'} program found)`,
      fix: `install bubblewrap (apt-get install bubblewrap, dnf install bubblewrap, pacman -S bubblewrap), ${UNSAFE_HINT}`,
    };
  }
  const prlimit = findProgram('prlimit', [...searchPath.split(delimiter), ...SYSTEM_BIN]);
  if (prlimit === null) {
    return {
      ok: false,
      reason: 'prlimit (util-linux) is not installed: the jail sets its resource limits with it',
      fix: `install util-linux, ${UNSAFE_HINT}`,
    };
  }
  const node = options.node ?? process.execPath;
  let libraries: string[];
  let version: string;
  try {
    let prlimitLibraries: string[];
    [libraries, prlimitLibraries, version] = await Promise.all([
      sharedLibraries(node),
      loadedLibraries(prlimit),
      run(bwrap, ['--version'], { env: {} }).then((r) => r.stdout.trim()),
    ]);
    libraries = [...new Set([...libraries, ...prlimitLibraries])];
  } catch (e) {
    return {
      ok: false,
      reason: `could not inspect ${node}, ${prlimit} and ${bwrap}: ${e instanceof Error ? e.message : String(e)}`,
      fix: `check that all three can run, ${UNSAFE_HINT}`,
    };
  }
  const tools: JailTools = { bwrap, prlimit, node, libraries, runAs: null };
  if (process.geteuid?.() !== 0) return probeJail(tools, version, null);
  // A root host jails its workers as nobody; where nobody cannot read the install (a
  // checkout under /root), the jail still works as root's uid, without RLIMIT_NPROC
  // (the kernel never enforces it for uid 0; the seccomp filter still refuses new processes).
  const asNobody = await probeJail({ ...tools, runAs: NOBODY }, version, null);
  if (asNobody.ok) return asNobody;
  const asRoot = await probeJail(
    tools,
    version,
    `jailed workers run as root's uid, not nobody (${asNobody.reason}): make the Node binary and the project readable by nobody, or run the host as a normal user`,
  );
  return asRoot.ok ? asRoot : asNobody;
}

/** Starts one jailed probe; ok only if Node ran in it and printed its version. */
async function probeJail(
  tools: JailTools,
  version: string,
  warning: string | null,
): Promise<JailDetection> {
  const spawner = new BubblewrapSpawner({ tools });
  // `node --version` answers before V8 starts: cheap at every start-up, and it only prints
  // once the loader found every library in the jail, past the binds, the limits and the filter.
  const probe = await spawner.probe(['--version']);
  if (probe.exit.code !== 0 || !/^v\d+\./.test(probe.stdout)) {
    const said = firstLine(probe.stderr) ?? `exit ${String(probe.exit.code ?? probe.exit.signal)}`;
    return {
      ok: false,
      reason: `${version} could not start a jailed worker: ${said}`,
      fix: fixFor(said, tools),
    };
  }
  return { ok: true, tools, version, seccomp: spawner.seccomp, warning };
}

/** The fix for what bwrap said. */
function fixFor(said: string, tools: JailTools): string {
  if (/namespace|uid map|Operation not permitted|Permission denied.*setting up/i.test(said)) {
    return `allow unprivileged user namespaces: sysctl user.max_user_namespaces must be above 0; on Debian before 11 sysctl -w kernel.unprivileged_userns_clone=1; on Ubuntu 23.10 and later sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile that lets ${tools.bwrap} use user namespaces; ${UNSAFE_HINT}`;
  }
  if (/Unknown option|unrecognized/i.test(said)) {
    return `install bubblewrap 0.8.0 or later (the jail uses --disable-userns and --size), ${UNSAFE_HINT}`;
  }
  if (tools.runAs !== null && /Can't find source path|Permission denied/i.test(said)) {
    return `the host runs as root, so jails run as nobody (uid ${String(tools.runAs.uid)}): make the Node binary and the project folder readable by nobody, or run the host as a normal user; ${UNSAFE_HINT}`;
  }
  return `see bubblewrap's message above, ${UNSAFE_HINT}`;
}

/**
 * The shared libraries a Node binary loads, as its own diagnostic report lists them (the
 * dynamic loader included), so the jail binds exactly those. For the host's own binary the
 * host's report serves, less the native addons it loaded (`*.node`: the worker loads none).
 */
async function sharedLibraries(node: string): Promise<string[]> {
  const listed: unknown =
    node === process.execPath
      ? (process.report.getReport() as { sharedObjects?: unknown }).sharedObjects
      : JSON.parse(
          (
            await run(node, ['-p', 'JSON.stringify(process.report.getReport().sharedObjects)'], {
              env: {},
            })
          ).stdout,
        );
  if (!Array.isArray(listed)) throw new Error('no shared object list in the report');
  // linux-vdso.so.1 and the like are provided by the kernel, not files.
  return listed.filter(
    (p): p is string =>
      typeof p === 'string' && isAbsolute(p) && p !== node && !p.endsWith('.node'),
  );
}

/** A line of the dynamic loader's listing: `name => /path (0x…)`, or `/path (0x…)` for itself. */
const LOADED_LINE = /^\s*(?:(\S+) => )?(\S+) \(0x[0-9a-f]+\)\s*$/;
/** A library the loader could not find: `name => not found`. */
const NOT_FOUND_LINE = /^\s*(\S+) => not found\s*$/;

/**
 * The shared libraries a dynamically linked program loads, as its dynamic loader lists them
 * (what `ldd` does: `LD_TRACE_LOADED_OBJECTS=1` makes the loader print them and exit before
 * the program runs), the loader itself included. A statically linked program runs instead
 * (prlimit with no arguments only prints its own limits) and lists nothing: it needs nothing.
 */
async function loadedLibraries(program: string): Promise<string[]> {
  const { stdout } = await run(program, [], { env: { LD_TRACE_LOADED_OBJECTS: '1' } });
  const libraries: string[] = [];
  for (const line of stdout.split('\n')) {
    const missing = NOT_FOUND_LINE.exec(line);
    if (missing !== null)
      throw new Error(`${program} needs ${String(missing[1])}, which is not installed`);
    const path = LOADED_LINE.exec(line)?.[2];
    // linux-vdso.so.1 and the like are provided by the kernel, not files.
    if (path !== undefined && isAbsolute(path)) libraries.push(path);
  }
  return libraries;
}

/** An executable by absolute path, or the first in `dirs`; null if none. */
function findProgram(name: string, dirs: readonly string[]): string | null {
  const candidates = isAbsolute(name)
    ? [name]
    : dirs.filter((d) => d !== '').map((d) => join(d, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function firstLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
}
