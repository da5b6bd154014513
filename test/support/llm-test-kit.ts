import { inspect } from 'node:util';
import { expect } from 'vitest';
import { isAppError } from '../../main/errors.ts';

/**
 * Asserts that a thrown value shows `secret` nowhere a logger or a caller could look: its
 * message, its string form, its JSON and a deep inspection including hidden properties.
 */
export function expectNoSecret(thrown: unknown, secret: string): void {
  const views = [
    thrown instanceof Error ? thrown.message : '',
    String(thrown),
    // JSON.stringify yields undefined for some values although its type says string.
    (JSON.stringify(thrown) as string | undefined) ?? '',
    inspect(thrown, { depth: null, showHidden: true }),
  ];
  for (const view of views) expect(view).not.toContain(secret);
}

/** Awaits a promise that must reject and returns what it rejected with. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject');
}

/** How long the tests let a call run before aborting it; the server holds its answer far longer. */
const ABORT_AFTER_MS = 50;
/** An abort must not wait for the answer: the server's delay is 10 s. */
const PROMPT_MS = 5_000;

/**
 * Starts `call` with a signal, aborts it shortly after, and asserts it rejects promptly
 * with `LLM_ABORTED` and without the key. The caller has set the server to answer slowly.
 */
export async function expectAbortedPromptly(
  call: (signal: AbortSignal) => Promise<unknown>,
  secret: string,
): Promise<void> {
  const controller = new AbortController();
  const started = Date.now();
  const pending = call(controller.signal);
  setTimeout(() => {
    controller.abort();
  }, ABORT_AFTER_MS);
  const e = await rejectionOf(pending);
  expect(isAppError(e, 'LLM_ABORTED')).toBe(true);
  expect(Date.now() - started).toBeLessThan(PROMPT_MS);
  expectNoSecret(e, secret);
}
