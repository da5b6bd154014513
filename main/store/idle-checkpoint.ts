import { sql } from 'kysely';
import type { Disposable } from '../disposable.ts';
import type { Db } from './schema.ts';

/** What one checkpoint did: frames in the WAL, and how many of them reached the database. */
export type CheckpointResult = { busy: boolean; log: number; checkpointed: number };

type TimerHandle = { dispose: () => void };
/** A one-shot timer (the host passes the scheduler's `WakeTimer`; tests fire theirs by hand). */
export type IdleTimer = { set: (delayMs: number, wake: () => void) => TimerHandle };

export type IdleCheckpointDeps = {
  db: Db;
  timer: IdleTimer;
  /** How long the store must see no commit before the checkpoint runs. */
  idleMs: number;
  /**
   * Monotonic milliseconds (default `performance.now`), never the host's `Clock`: a test
   * host's manual clock does not move, and the checkpoint would never see a quiet spell.
   */
  now?: () => number;
  onCheckpoint?: (result: CheckpointResult) => void;
  onError: (e: unknown) => void;
};

/**
 * Copies the WAL into the database while the host is idle. SQLite's own checkpoint runs
 * inside the commit that crosses 1,000 WAL pages, so one transaction in a few dozen (a burst
 * of schedule fires, a person's approval) waits tens of milliseconds for it; run after every
 * quiet spell, each checkpoint is small and lands between transactions. The automatic one
 * stays as the backstop for a host that is never idle. PASSIVE: it never waits for a lock.
 */
export class IdleCheckpoint implements Disposable {
  readonly #deps: IdleCheckpointDeps;
  readonly #now: () => number;
  #timer: TimerHandle | undefined;
  #lastCommitAt = 0;
  #stopped = false;
  #running: Promise<void> = Promise.resolve();

  constructor(deps: IdleCheckpointDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? (() => performance.now());
  }

  /**
   * Tells it a transaction committed: the idle wait starts over. Called on every commit, so
   * it only notes the time; the timer is armed once and, when it expires, set again for what
   * is left of the quiet spell if a commit came meanwhile (issue 18).
   */
  committed(): void {
    if (this.#stopped) return;
    this.#lastCommitAt = this.#now();
    if (this.#timer === undefined) this.#arm(this.#deps.idleMs);
  }

  #arm(delayMs: number): void {
    this.#timer = this.#deps.timer.set(delayMs, () => {
      this.#timer = undefined;
      const quietMs = this.#now() - this.#lastCommitAt;
      if (quietMs < this.#deps.idleMs) this.#arm(this.#deps.idleMs - quietMs);
      else this.#running = this.#checkpoint();
    });
  }

  async #checkpoint(): Promise<void> {
    if (this.#stopped) return;
    try {
      const { rows } = await sql<{
        busy: number;
        log: number;
        checkpointed: number;
      }>`pragma wal_checkpoint(passive)`.execute(this.#deps.db);
      const row = rows[0];
      if (row !== undefined)
        this.#deps.onCheckpoint?.({
          busy: row.busy !== 0,
          log: row.log,
          checkpointed: row.checkpointed,
        });
    } catch (e) {
      this.#deps.onError(e);
    }
  }

  /** Stops arming; waits for a checkpoint under way, so the store may close after it. */
  async dispose(): Promise<void> {
    this.#stopped = true;
    this.#timer?.dispose();
    this.#timer = undefined;
    await this.#running;
  }
}
