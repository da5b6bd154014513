import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { routeOf } from './route-of.ts';

/**
 * Notes each (operation, status) pair the gateway answers, once per pair and process, as a
 * line `operationId status` in a file of `dir`. The test suite sets the folder and, at its
 * end, checks that the OpenAPI document describes every pair it saw (issue 19: "every status
 * the server returns is documented"). Off unless the setting names a folder.
 */
export class StatusRecorder {
  readonly #file: string;
  readonly #seen = new Set<string>();

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.#file = path.join(dir, `statuses-${process.pid}-${crypto.randomUUID()}.txt`);
  }

  record(method: string, requestPath: string, status: number): void {
    const name = routeOf(method, requestPath);
    if (name === undefined) return;
    const line = `${name} ${status}`;
    if (this.#seen.has(line)) return;
    this.#seen.add(line);
    // Synchronous so a host killed right after still leaves what it answered; once per pair.
    appendFileSync(this.#file, `${line}\n`);
  }
}
