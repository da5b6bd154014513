import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { API, type ApiRouteName } from '../../contracts/api.ts';

/*
 * Vitest global setup: every host started by the suite — in a test process or as a child
 * process — notes the (operation, status) pairs it answers (`CCOS_API_STATUS_LOG_DIR`,
 * main/gateway/server/status-recorder.ts). At the end the pairs are checked against the
 * route definitions the OpenAPI document is generated from: a status the server returned
 * that the document does not describe fails the run.
 */

let dir: string | undefined;

export function setup(): void {
  dir = mkdtempSync(path.join(tmpdir(), 'ccos-api-statuses-'));
  process.env.CCOS_API_STATUS_LOG_DIR = dir;
}

/** Pairs the suite saw that the API definition does not document, as `operation status`. */
export function undocumentedStatuses(folder: string): string[] {
  const seen = new Set(
    readdirSync(folder).flatMap((file) =>
      readFileSync(path.join(folder, file), 'utf8').split('\n').filter(Boolean),
    ),
  );
  return [...seen].sort().filter((line) => {
    const [name = '', status = ''] = line.split(' ');
    const route = API[name as ApiRouteName] as { responses: Record<string, unknown> } | undefined;
    return route === undefined || !(status in route.responses);
  });
}

export function teardown(): void {
  if (dir === undefined) return;
  const missing = undocumentedStatuses(dir);
  rmSync(dir, { recursive: true, force: true });
  if (missing.length > 0) {
    throw new Error(
      `the API description (contracts/api.ts) lacks statuses the server returned in this run: ${missing.join(', ')}`,
    );
  }
}
