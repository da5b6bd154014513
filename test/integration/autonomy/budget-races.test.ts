import { afterEach, describe, expect, it } from 'vitest';
import {
  RUN_TIMEOUT_MS,
  doneEntry,
  pack,
  startAutonomyHost,
  type AutonomyHost,
} from './helpers/autonomy-host.ts';
import { RecordingSpawner } from './helpers/recording-spawner.ts';

/** Room for all 20 calls in one segment: only the token budget may stop them. */
const WIDE = pack('wide', { segment_max_steps: 100 });
/** What each replayed answer costs: one call's cap in these tests. */
const ONE_CALL = { input_tokens: 100, output_tokens: 400 };
const TOKENS_PER_CALL = ONE_CALL.input_tokens + ONE_CALL.output_tokens;

/**
 * Issue 17 #10: the channel dispatches a worker's requests without waiting for earlier ones,
 * so 20 `ccos/llm.complete` calls fired at once used to pass the same budget check and
 * overspend by up to 20 calls. A worker doing exactly that overspends by at most one call.
 */
describe('budgets: concurrent calls cannot outrun them', () => {
  let host: AutonomyHost | undefined;
  let spawner: RecordingSpawner | undefined;
  afterEach(async () => {
    await host?.stop();
    await spawner?.killAll();
    host = undefined;
    spawner = undefined;
  });

  it(
    'a worker firing 20 concurrent LLM calls overspends its token budget by at most one call',
    async () => {
      spawner = new RecordingSpawner(() => 'greedy');
      host = await startAutonomyHost({
        packs: [WIDE],
        spawner,
        installEchoNotes: false,
        transcript: {
          on_exhausted: 'loop_last',
          entries: [doneEntry('spent', { usage: ONE_CALL })],
        },
      });
      const maxTokens = 4 * TOKENS_PER_CALL;
      const created = await host.createRun({
        goal: 'outrun the budget',
        policy_pack: 'wide',
        budget: { max_tokens: maxTokens, max_steps: 100 },
      });
      const run = await host.settle(created.id);
      expect(run.state).toBe('failed');
      expect(run.state_reason).toBe('budget_exceeded:tokens');
      expect(run.usage.tokens).toBeLessThanOrEqual(maxTokens + TOKENS_PER_CALL);
      const calls = await host.runChain(run.id, 'llm.call');
      expect(calls.length).toBeLessThanOrEqual(maxTokens / TOKENS_PER_CALL + 1);
    },
    RUN_TIMEOUT_MS,
  );
});
