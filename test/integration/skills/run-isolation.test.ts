import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../../contracts/runs.ts';
import { startExecuteHost, type ExecuteTestHost } from '../execute/helpers/execute-host.ts';
import { manifest, operation } from '../execute/helpers/skill-folder.ts';

/**
 * Issue 17 #32, red team: one isolate per skill, reused, let a fact a skill stashed in a
 * module variable, a global or a built-in prototype during session A's run be read in session
 * B's, around every memory rule. Each run now has its own context. Real host, real isolates.
 */

const STASHER = `
let stash = null;
export async function remember(input) {
  stash = input.fact;
  globalThis.leak = input.fact;
  Object.prototype.polluted = input.fact;
  return 'kept';
}
export async function recall() {
  return { stash, leak: globalThis.leak ?? null, polluted: ({}).polluted ?? null };
}
`;

let h: ExecuteTestHost;

beforeAll(async () => {
  h = await startExecuteHost();
  await h.install(manifest('stasher', [operation('remember'), operation('recall')]), STASHER);
});

afterAll(async () => {
  await h.stop();
});

const recall = async (run: Run): Promise<unknown> => {
  const outcome = await h.execute(run, 'stasher__recall', {});
  expect(outcome.status).toBe('ok');
  return (outcome as { output: unknown }).output;
};

describe('skill module state does not cross runs', () => {
  it("a fact stashed during session A's run is not there in session B's", async () => {
    const a = await h.runningRun('run in session A');
    const b = await h.runningRun('run in session B');
    expect(a.session_id).not.toBe(b.session_id);
    expect(await h.execute(a, 'stasher__remember', { fact: 'A-secret' })).toEqual({
      status: 'ok',
      output: 'kept',
    });
    // Within its own run the skill keeps its state...
    expect(await recall(a)).toEqual({ stash: 'A-secret', leak: 'A-secret', polluted: 'A-secret' });
    // ...but another run, in another session, sees none of it.
    expect(await recall(b)).toEqual({ stash: null, leak: null, polluted: null });
  });

  it('isolation holds past the number of contexts an isolate keeps', async () => {
    const first = await h.runningRun();
    await h.execute(first, 'stasher__remember', { fact: 'first-run' });
    for (let i = 0; i < 20; i++) {
      const run = await h.runningRun();
      expect(await recall(run)).toEqual({ stash: null, leak: null, polluted: null });
      await h.execute(run, 'stasher__remember', { fact: `run-${i}` });
    }
    // The first run's context was the least recently used, so it went: its state is gone,
    // never replaced by another run's.
    expect(await recall(first)).toEqual({ stash: null, leak: null, polluted: null });
  });
});
