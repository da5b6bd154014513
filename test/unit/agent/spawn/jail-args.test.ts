import { describe, expect, it } from 'vitest';
import {
  DEFAULT_JAIL_LIMITS,
  bwrapArgs,
  limitedCommand,
  type JailTools,
} from '../../../../main/agent/spawn/jail-args.ts';
import { exitOf, limitsFailure } from '../../../../main/agent/spawn/jailed-worker.ts';

const TOOLS: JailTools = {
  bwrap: '/usr/bin/bwrap',
  prlimit: '/usr/bin/prlimit',
  node: '/opt/node/bin/node',
  libraries: ['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2'],
  runAs: null,
};

function args(seccomp = true): string[] {
  return bwrapArgs(TOOLS, {
    readPaths: ['/app/main/agent/worker', '/app/package.json'],
    limits: DEFAULT_JAIL_LIMITS,
    seccomp,
    command: ['/opt/node/bin/node', '--permission', '/app/main/agent/worker/worker-main.js'],
  });
}

/** The value after each occurrence of `flag` (flags that take one argument). */
function valuesOf(list: string[], flag: string): string[] {
  return list.flatMap((a, i) => (a === flag ? [list[i + 1] ?? ''] : []));
}

describe('the bwrap command line', () => {
  it('unshares every namespace, no nested user namespaces, no capabilities, own session, dies with the host', () => {
    const a = args();
    for (const flag of [
      '--unshare-all',
      '--unshare-user',
      '--disable-userns',
      '--die-with-parent',
      '--new-session',
    ]) {
      expect(a).toContain(flag);
    }
    expect(a).not.toContain('--share-net');
    expect(valuesOf(a, '--cap-drop')).toEqual(['ALL']);
  });

  it('binds exactly the Node binary, prlimit, their libraries and the read paths, read-only, and remounts the root read-only', () => {
    const a = args();
    expect(valuesOf(a, '--ro-bind').sort()).toEqual(
      [
        ...TOOLS.libraries,
        TOOLS.node,
        TOOLS.prlimit,
        '/app/main/agent/worker',
        '/app/package.json',
      ].sort(),
    );
    expect(a).not.toContain('--bind');
    expect(valuesOf(a, '--dev-bind').sort()).toEqual(['/dev/null', '/dev/urandom', '/dev/zero']);
    expect(a).not.toContain('--dev');
    expect(valuesOf(a, '--remount-ro')).toEqual(['/']);
    // The one writable place is a size-capped tmpfs.
    expect(valuesOf(a, '--tmpfs')).toEqual(['/tmp']);
    expect(a[a.indexOf('--tmpfs') - 2]).toBe('--size');
    expect(valuesOf(a, '--size')).toEqual([String(DEFAULT_JAIL_LIMITS.tmpfsBytes)]);
    expect(valuesOf(a, '--proc')).toEqual(['/proc']);
  });

  it('runs the command behind prlimit after `--`, with the seccomp descriptor before it and no handshake', () => {
    const a = args();
    const end = a.indexOf('--');
    expect(a.slice(end + 1)).toEqual(
      limitedCommand(TOOLS.prlimit, DEFAULT_JAIL_LIMITS, [
        '/opt/node/bin/node',
        '--permission',
        '/app/main/agent/worker/worker-main.js',
      ]),
    );
    expect(a[end + 1]).toBe(TOOLS.prlimit);
    // Nothing outside holds the jail before its first program runs.
    expect(a).not.toContain('--block-fd');
    expect(a).not.toContain('--info-fd');
    expect(valuesOf(a, '--seccomp')).toEqual(['3']);
    expect(args(false)).not.toContain('--seccomp');
    expect(a.indexOf('--remount-ro')).toBeLessThan(end);
  });
});

describe('the jail limits', () => {
  it('sets CPU (soft below hard, so SIGXCPU comes first), data, descriptors, tasks and no core file on prlimit itself, then execs the command', () => {
    expect(limitedCommand('/usr/bin/prlimit', DEFAULT_JAIL_LIMITS, ['/opt/node', '-v'])).toEqual([
      '/usr/bin/prlimit',
      `--cpu=${String(DEFAULT_JAIL_LIMITS.cpuSeconds)}:${String(DEFAULT_JAIL_LIMITS.cpuSeconds + 1)}`,
      `--data=${String(DEFAULT_JAIL_LIMITS.dataBytes)}`,
      `--nofile=${String(DEFAULT_JAIL_LIMITS.openFiles)}`,
      `--nproc=${String(DEFAULT_JAIL_LIMITS.tasks)}`,
      '--core=0',
      '--',
      '/opt/node',
      '-v',
    ]);
  });

  it('tells a failed prlimit by its own message on a non-zero exit, and nothing else', () => {
    const said = 'prlimit: failed to set the NOFILE resource limit: Operation not permitted\n';
    expect(limitsFailure(said, 1, '/usr/bin/prlimit')).toBe(
      "could not set the jail's limits: failed to set the NOFILE resource limit: Operation not permitted",
    );
    expect(limitsFailure(said, 0, '/usr/bin/prlimit')).toBeUndefined();
    expect(limitsFailure(said, null, '/usr/bin/prlimit')).toBeUndefined();
    expect(limitsFailure(`worker says\n${said}`, 1, '/usr/bin/prlimit')).toBeUndefined();
    expect(limitsFailure('', 1, '/usr/bin/prlimit')).toBeUndefined();
  });
});

describe("bwrap's exit status", () => {
  it('turns 128 + N back into signal N, the first name of an alias', () => {
    expect(exitOf(137, null)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(exitOf(134, null)).toEqual({ code: null, signal: 'SIGABRT' });
    expect(exitOf(152, null)).toEqual({ code: null, signal: 'SIGXCPU' });
  });

  it('keeps ordinary codes and a signal bwrap itself died of', () => {
    expect(exitOf(0, null)).toEqual({ code: 0, signal: null });
    expect(exitOf(1, null)).toEqual({ code: 1, signal: null });
    expect(exitOf(128, null)).toEqual({ code: 128, signal: null });
    expect(exitOf(null, 'SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    expect(exitOf(250, null)).toEqual({ code: 250, signal: null });
  });
});
