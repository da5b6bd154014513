import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { basename } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { AppError } from '../../errors.ts';
import { JAIL_FDS } from './jail-args.ts';
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
/** How much of the jail's first stderr is kept to tell a failed prlimit by its message. */
const STDERR_HEAD_CHARS = 500;

/**
 * One jailed worker: the bwrap process, whose first program in the jail is prlimit, which
 * sets the limits on itself and execs the worker (`limitedCommand`). The host starts one
 * process per worker and waits on nothing before the worker runs. If a limit cannot be set,
 * prlimit exits non-zero without exec'ing: the worker never runs, and the host tells it by
 * prlimit's message on stderr (`setupFailure`).
 */
export class JailedWorker implements SpawnedWorker {
  readonly pid: number;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exited: Promise<WorkerExit>;
  /** Settles once the jail has exited and its output ended: `setupFailure` is known then. */
  readonly closed: Promise<void>;
  readonly #child: ChildProcess;
  readonly #handoff: HandoffLatch;
  #hasExited = false;
  #setupFailure: string | undefined;

  constructor(
    child: ChildProcess,
    setup: {
      /** prlimit's path: its messages start with its name. */
      prlimit: string;
      seccomp: Buffer | null;
      /** Told when the jail ended before its worker ran because its limits could not be set. */
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
    // Passed through, not listened to: a listener here would set stderr flowing before its
    // reader (the pool, the supervisor) is attached, and lose what came first.
    let head = '';
    const tap = new PassThrough({
      transform(chunk: Buffer, _encoding, done) {
        if (head.length < STDERR_HEAD_CHARS) head += chunk.toString('utf8');
        done(null, chunk);
      },
    });
    stderr.pipe(tap);
    this.stderr = tap;
    this.closed = new Promise((resolve) => {
      child.once('close', (code: number | null) => {
        this.#setupFailure = limitsFailure(head, code, setup.prlimit);
        if (this.#setupFailure !== undefined) setup.onSetupFailure?.(this.#setupFailure);
        resolve();
      });
    });
    // A worker that dies mid-write makes the host's next write fail with EPIPE; the channel
    // reports that, and this keeps it from becoming an uncaught exception.
    stdin.on('error', () => undefined);
    // Written now or later, the hand-off waits in the pipe until the worker reads it, which it
    // does only once prlimit has set the limits and exec'd it.
    this.#handoff = new HandoffLatch(stdin);
    if (setup.seccomp !== null) {
      const stdio: readonly unknown[] = child.stdio;
      const seccomp = stdio[JAIL_FDS.seccomp] as Writable;
      seccomp.on('error', () => undefined);
      seccomp.end(setup.seccomp);
    }
  }

  get runId(): string | undefined {
    return this.#handoff.runId;
  }

  handOff(handoff: WorkerHandoff): void {
    this.#handoff.handOff(handoff);
  }

  /** Why the jail ended before the worker ran, if it did; known once `closed` settled. */
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

/**
 * The reason a jail ended before its worker ran, or undefined: a non-zero exit whose stderr
 * begins with prlimit's own message (`prlimit: failed to set the NOFILE resource limit: …`,
 * or `failed to execute` when it could not exec the worker). Nothing but prlimit and bwrap
 * write to that stderr before the worker runs. A worker could print such a line itself and
 * exit: it gains nothing, this only words the log line, and every non-zero end is a failure
 * charged to the run.
 */
export function limitsFailure(
  stderrHead: string,
  code: number | null,
  prlimit: string,
): string | undefined {
  if (code === 0 || code === null) return undefined;
  const prefix = `${basename(prlimit)}: `;
  const first = stderrHead.split('\n', 1)[0]?.trim() ?? '';
  if (!first.startsWith(prefix)) return undefined;
  return `could not set the jail's limits: ${first.slice(prefix.length)}`;
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
