import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExecuteHost, type ExecuteTestHost } from '../execute/helpers/execute-host.ts';
import { manifest, operation } from '../execute/helpers/skill-folder.ts';

/**
 * Issue 17 #28: what the host records and hands back is what the skill returned, also when
 * the output holds keys that are special to JavaScript objects (`__proto__`, `constructor`).
 * Real host: the skill runs in an isolate, its output crosses as JSON, the pipeline validates
 * and redacts it.
 */

const RETURNED =
  '{"__proto__":{"admin":true},"constructor":{"prototype":{"polluted":"yes"}},"list":[{"__proto__":[1,2]}],"ok":1}';

let h: ExecuteTestHost;

beforeAll(async () => {
  h = await startExecuteHost();
  await h.install(
    manifest('proto-keys', [operation('give')]),
    `export async function give() { return JSON.parse(${JSON.stringify(RETURNED)}); }`,
  );
});

afterAll(async () => {
  await h.stop();
});

describe('skill output with __proto__ keys', () => {
  it('reaches the agent exactly as the skill returned it', async () => {
    const run = await h.runningRun();
    const outcome = await h.execute(run, 'proto-keys__give', {});
    expect(outcome.status).toBe('ok');
    const output = (outcome as { output: unknown }).output;
    expect(JSON.stringify(output)).toBe(RETURNED);
    expect(Object.hasOwn(output as object, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
