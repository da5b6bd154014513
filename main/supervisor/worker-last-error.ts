/** The error a worker hands over is cut here before it lands in a reason or the chain. */
export const MAX_WORKER_ERROR_CHARS = 500;
/** The worker's last words before a non-zero exit (main/agent/worker/worker-main.ts). */
const FATAL_PREFIX = '[agent-worker] fatal: ';
/** A line Node prints for an uncaught error (`TypeError: …`), when the worker wrote no `fatal:`. */
const ERROR_LINE = /^[A-Za-z]*Error\b/;

/**
 * Reads a worker's stderr as it comes and keeps the error a worker that exits non-zero died
 * of: its `fatal:` line when it wrote one, else the last line that names an error (a crash
 * Node itself reported). Lines are cut as they arrive, so a worker cannot make the host hold
 * more than a few lines. The worker is untrusted: this is only text to show, and the caller
 * redacts it.
 */
export class WorkerLastError {
  #partial = '';
  #fatal: string | undefined;
  #error: string | undefined;

  /** Feeds a chunk of the worker's stderr. */
  push(chunk: string): void {
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = cut(lines.pop() ?? '');
    for (const line of lines) this.#line(line);
  }

  /** The error to record, or undefined when the worker named none. */
  take(): string | undefined {
    if (this.#partial !== '') this.#line(this.#partial);
    this.#partial = '';
    const found = this.#fatal ?? this.#error;
    if (found === undefined) return undefined;
    // A worker's text may carry terminal escapes; they have no place in a reason.
    const plain = found.replace(/[\u0000-\u001f\u007f]/g, ' ');
    return plain.length > MAX_WORKER_ERROR_CHARS
      ? `${plain.slice(0, MAX_WORKER_ERROR_CHARS)}… [cut]`
      : plain;
  }

  #line(raw: string): void {
    const line = raw.trim();
    if (line.startsWith(FATAL_PREFIX)) this.#fatal = cut(line.slice(FATAL_PREFIX.length));
    else if (ERROR_LINE.test(line)) this.#error = cut(line);
  }
}

/** One character past the cap is kept, so `take` knows the line was longer. */
function cut(text: string): string {
  return text.slice(0, MAX_WORKER_ERROR_CHARS + 1);
}
