import { execFile, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { AppError } from '../../errors.ts';
import { JAIL_FDS, prlimitArgs, type JailLimits, type JailTools } from './jail-args.ts';
import type { WorkerHandoff } from '../channel/worker-handoff.ts';
import { HandoffLatch } from './handoff-latch.ts';
import type { SpawnedWorker, WorkerExit } from './spawner.ts';

/** bwrap reports a worker killed by signal N as exit code 128 + N. */
const SIGNAL_EXIT_BASE = 128;
/** Signal names by number; the first of aliases (SIGABRT before SIGIOT) is the one Node reports. */
const SIGNAL_NAMES = new Map<number, NodeJS.Signals>();
for (const [name, n] of Object.entries(constants.signals)) {
  if (!SIGNAL_NAMES.has(n)) SIGNAL_NAMES.set(n, name as NodeJS.Signals);
}

/**
 * One jailed worker: the bwrap process and the handshake that finishes the jail before the
 * worker runs. bwrap writes the jail's first pid to the info fd and waits on the block fd;
 * meanwhile prlimit sets the limits on that pid (see `prlimitArgs`), and only then the
 * block fd is released. If the limits cannot be set the jail is killed before the worker
 * has run a line: a worker never runs without them.
 */
export class JailedWorker implements SpawnedWorker {
  readonly pid: number;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exited: Promise<WorkerExit>;
  readonly #child: ChildProcess;
  readonly #handoff: HandoffLatch;
  #hasExited = false;
  #setupFailure: string | undefined;

  constructor(
    child: ChildProcess,
    setup: {
      tools: JailTools;
      limits: JailLimits;
      seccomp: Buffer | null;
      /** Told when the jail was killed because it could not be finished. */
      onSetupFailure?: (message: string) => void;
    },
  ) {
    this.#child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#hasExited = true;
        resolve(exitOf(code, signal));
      });
      // Without a listener a failed spawn or kill would be an uncaught 'error' in the host.
      child.on('error', () => {
        if (child.pid === undefined) {
          this.#hasExited = true;
          resolve({ code: null, signal: null });
        }
      });
    });
    const [stdin, stdout, stderr] = [child.stdin, child.stdout, child.stderr];
    if (child.pid === undefined || stdin === null || stdout === null || stderr === null) {
      throw new AppError('INTERNAL', 'the agent jail (bwrap) could not be started');
    }
    this.pid = child.pid;
    this.stdin = stdin;
    this.stdout = stdout;
    this.stderr = stderr;
    // A worker that dies mid-write makes the host's next write fail with EPIPE; the channel
    // reports that, and this keeps it from becoming an uncaught exception.
    stdin.on('error', () => undefined);
    // Written now or later, the hand-off waits in the pipe until the worker reads it, which it
    // does only once the jail is finished and it has run.
    this.#handoff = new HandoffLatch(stdin);

    const stdio: readonly unknown[] = child.stdio;
    const info = stdio[JAIL_FDS.info] as Readable;
    const block = stdio[JAIL_FDS.block] as Writable;
    block.on('error', () => undefined);
    info.on('error', () => undefined);
    if (setup.seccomp !== null) {
      const seccomp = stdio[JAIL_FDS.seccomp] as Writable;
      seccomp.on('error', () => undefined);
      seccomp.end(setup.seccomp);
    }
    let text = '';
    info.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    // bwrap closes the info fd once written; no pid means bwrap failed and exits by itself.
    info.on('end', () => {
      const pid = jailPid(text);
      if (pid === null) return;
      execFile(
        setup.tools.prlimit,
        prlimitArgs(pid, setup.limits),
        {
          env: {},
          ...(setup.tools.runAs === null ? {} : setup.tools.runAs),
        },
        (err, _stdout, stderrText) => {
          if (err === null) {
            block.end('x');
            return;
          }
          this.#setupFailure = `could not set the jail's limits: ${stderrText.trim() || err.message}`;
          this.kill('SIGKILL');
          setup.onSetupFailure?.(this.#setupFailure);
        },
      );
    });
  }

  get runId(): string | undefined {
    return this.#handoff.runId;
  }

  handOff(handoff: WorkerHandoff): void {
    this.#handoff.handOff(handoff);
  }

  /** Why the jail was killed before the worker ran, if it was. */
  get setupFailure(): string | undefined {
    return this.#setupFailure;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.#hasExited) this.#child.kill(signal);
  }

  async dispose(): Promise<void> {
    this.kill('SIGKILL');
    await this.exited;
  }
}

/** The jail's first pid from bwrap's `--info-fd` JSON, or null. */
function jailPid(text: string): number | null {
  try {
    const parsed = JSON.parse(text) as { 'child-pid'?: unknown };
    const pid = parsed['child-pid'];
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * How the worker ended, as the supervisor records it. bwrap exits with the worker's code,
 * or 128 + N when the worker died of signal N (SIGXCPU at its CPU limit, SIGKILL, …); that
 * is turned back into the signal. A worker could exit with such a code on purpose to look
 * signalled: it gains nothing, every non-zero end is a failure charged to the run.
 */
export function exitOf(code: number | null, signal: NodeJS.Signals | null): WorkerExit {
  if (signal !== null || code === null || code <= SIGNAL_EXIT_BASE) return { code, signal };
  const name = SIGNAL_NAMES.get(code - SIGNAL_EXIT_BASE);
  return name === undefined ? { code, signal: null } : { code: null, signal: name };
}
