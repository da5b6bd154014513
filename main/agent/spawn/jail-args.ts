/**
 * The bubblewrap jail as command lines (ARCHITECTURE.md §8), kept apart from process
 * handling so every flag can be read in one place and checked by a unit test.
 */

/** What the kernel enforces on one jailed worker. */
export type JailLimits = {
  /** CPU seconds (RLIMIT_CPU): past it the kernel stops the worker (SIGXCPU, then SIGKILL). */
  cpuSeconds: number;
  /**
   * Private writable memory (RLIMIT_DATA): heap, buffers, thread stacks. Node reserves
   * ~0.6 GiB of it before running any code, so this leaves ~0.4 GiB to use.
   */
  dataBytes: number;
  /** Open descriptors (RLIMIT_NOFILE); Node itself holds about 20. */
  openFiles: number;
  /** Processes and threads in the jail (RLIMIT_NPROC, set inside the jail's user namespace). */
  tasks: number;
  /** Size of the jail's private, writable tmpfs at `/tmp`. */
  tmpfsBytes: number;
};

export const DEFAULT_JAIL_LIMITS: JailLimits = {
  cpuSeconds: 60,
  dataBytes: 1024 * 1024 * 1024,
  openFiles: 64,
  tasks: 32,
  tmpfsBytes: 8 * 1024 * 1024,
};

/** The programs and files a jail is built from, found once at start-up (`detectJail`). */
export type JailTools = {
  /** Absolute path of `bwrap`. */
  bwrap: string;
  /** Absolute path of `prlimit` (util-linux): the jail's first program, bound into the jail. */
  prlimit: string;
  /** The Node binary the worker runs on. */
  node: string;
  /** The shared libraries the Node binary and prlimit load (their dynamic loaders included). */
  libraries: readonly string[];
  /**
   * The user bwrap (and so everything in the jail) runs as, when the host runs as root: the
   * worker must not be root on the host, and RLIMIT_NPROC is never enforced for uid 0.
   * Null: the host's user.
   */
  runAs: { uid: number; gid: number } | null;
};

/**
 * Descriptors of the bwrap child besides stdio. No info or block descriptor: nothing waits
 * on bwrap from outside, the limits are set by the jail's own first program (`limitedCommand`).
 */
export const JAIL_FDS = {
  /** bwrap reads the seccomp program from here. */
  seccomp: 3,
} as const;

/** The hostname inside the jail; the host's own name is not the worker's business. */
const JAIL_HOSTNAME = 'ccos-worker';
/** The only devices a worker gets. */
const DEVICES = ['/dev/null', '/dev/zero', '/dev/urandom'] as const;

/**
 * The bwrap arguments that start `command` in the jail:
 * - every namespace new (user, PID, network, IPC, UTS, cgroup): the network namespace holds
 *   only its own loopback, so nothing outside the jail can be reached, the gateway's port
 *   and abstract Unix sockets included; signals reach only processes in the jail;
 * - no further user namespaces inside, no capabilities, its own session (no TIOCSTI into a
 *   terminal), killed when the host dies;
 * - a root that is an empty read-only tmpfs with exactly `readPaths` (plus the Node binary
 *   and its libraries) bound read-only at their own paths, a private `/proc`, three
 *   devices, and a small private tmpfs at `/tmp` as the only writable place;
 * - the seccomp program from fd 3 when `seccomp` is set;
 * - `command` run under the limits: bwrap execs prlimit, which sets them on itself and then
 *   execs `command` (`limitedCommand`), so no command ever runs in the jail without them.
 */
export function bwrapArgs(
  tools: JailTools,
  options: {
    readPaths: readonly string[];
    limits: JailLimits;
    seccomp: boolean;
    command: readonly string[];
  },
): string[] {
  const roBinds = [
    ...new Set([...tools.libraries, tools.node, tools.prlimit, ...options.readPaths]),
  ];
  return [
    '--unshare-all',
    // Named although --unshare-all covers it: --disable-userns needs it spelled out.
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--hostname',
    JAIL_HOSTNAME,
    '--size',
    String(options.limits.tmpfsBytes),
    '--tmpfs',
    '/tmp',
    '--proc',
    '/proc',
    ...DEVICES.flatMap((d) => ['--dev-bind', d, d]),
    ...roBinds.flatMap((p) => ['--ro-bind', p, p]),
    '--remount-ro',
    '/',
    '--chdir',
    '/tmp',
    ...(options.seccomp ? ['--seccomp', String(JAIL_FDS.seccomp)] : []),
    '--',
    ...limitedCommand(tools.prlimit, options.limits, options.command),
  ];
}

/**
 * `command` behind prlimit, as the jail's first program: prlimit sets the limits on itself
 * and execs `command`, which keeps them (rlimits survive exec). If a limit cannot be set,
 * prlimit exits non-zero without exec'ing, so `command` never runs without them.
 *
 * It runs inside the jail, after bwrap created the user namespace, not on bwrap before it:
 * RLIMIT_NPROC is checked against the tasks of the caller's user in the caller's user
 * namespace, and a user namespace's creator's limit becomes the cap on everything in it, so
 * set on bwrap it would count every process of the real user (a person's whole desktop);
 * set inside, it counts the jail's own tasks. Hard limits cannot be raised by the worker; the
 * CPU hard limit is a second above the soft one so the kernel's first word is SIGXCPU (a
 * reason a person can read), then SIGKILL for a worker that ignores it.
 */
export function limitedCommand(
  prlimit: string,
  limits: JailLimits,
  command: readonly string[],
): string[] {
  return [
    prlimit,
    `--cpu=${String(limits.cpuSeconds)}:${String(limits.cpuSeconds + 1)}`,
    `--data=${String(limits.dataBytes)}`,
    `--nofile=${String(limits.openFiles)}`,
    `--nproc=${String(limits.tasks)}`,
    // A crashing worker leaves no core file (its memory holds the session token).
    '--core=0',
    '--',
    ...command,
  ];
}
