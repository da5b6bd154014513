import { afterEach, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../../contracts/api.ts';
import {
  RUN_TIMEOUT_MS,
  doneEntry,
  startAutonomyHost,
  type AutonomyHost,
  hostCli,
} from './helpers/autonomy-host.ts';
import { RecordingSpawner } from './helpers/recording-spawner.ts';

/** An agent token as minted (`ccos.<id>.<secret>`): it must never show in a reason. */
const TOKEN_SHAPE = /ccos\.[A-Za-z0-9_]+\.[A-Za-z0-9_-]{20,}/;

describe('a worker that exits non-zero hands its last error to the host', () => {
  let host: AutonomyHost | undefined;
  let spawner: RecordingSpawner | undefined;
  afterEach(async () => {
    await host?.stop();
    await spawner?.killAll();
    host = undefined;
    spawner = undefined;
  });

  /** Runs one goal (one retry allowed) with workers as `plan` says, until it ends. */
  async function crashOnce(plan: (index: number) => 'crash' | 'real') {
    spawner = new RecordingSpawner(plan);
    host = await startAutonomyHost({
      spawner,
      installEchoNotes: false,
      transcript: { entries: [doneEntry('Done.')] },
    });
    const created = await host.createRun({ goal: 'Say done.', budget: { max_retries: 1 } });
    return host.settle(created.id);
  }

  it(
    'the error is on the segment, the pending reason and the run detail, redacted and cut, and `runs show` prints it',
    async () => {
      const run = await crashOnce((i) => (i === 0 ? 'crash' : 'real'));
      expect(run.state).toBe('done');
      expect(run.usage.retries).toBe(1);

      if (host === undefined) throw new Error('no host');
      const chain = await host.runChain(run.id);
      const failure = String(
        chain.find((e) => e.event_type === 'segment.ended' && e.data.failure !== null)?.data
          .failure,
      );
      expect(failure).toMatch(/^worker exited with code 1: Error: the disk is on fire \(token /);
      // The worker quoted its own token: known to the redactor since the host minted it.
      expect(failure).not.toMatch(TOKEN_SHAPE);
      expect(failure).toContain('[REDACTED');
      expect(failure.length).toBeLessThan(700);
      expect(failure).toMatch(/… \[cut\]$/);
      const requeued = chain.find(
        (e) => e.event_type === 'run.transition' && e.data.trigger === 'recovery',
      );
      expect(String(requeued?.data.reason)).toContain('the disk is on fire');

      const detail = (await host.request('GET', `/v1/runs/${run.id}`)).body as RunDetail;
      expect(detail.last_failure).toMatchObject({ kind: 'segment', segment: 0, reason: failure });

      const show = await hostCli(host)('runs', 'show', run.id);
      expect(show.code).toBe(0);
      expect(show.stdout).toMatch(
        /^failure {2}\S+ in segment 0: worker exited with code 1: Error: the disk is on fire/m,
      );
      expect(show.stdout).toContain('retries 1/1');
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'spent retries fail the run with the last error in its reason, and usage never passes the limit',
    async () => {
      const run = await crashOnce(() => 'crash');
      expect(run.state).toBe('failed');
      expect(run.state_reason).toMatch(
        /^retries_exhausted: worker exited with code 1: Error: the disk is on fire/,
      );
      expect(run.state_reason).not.toMatch(TOKEN_SHAPE);
      expect(run.usage.retries).toBe(1);
      expect(spawner?.workers).toHaveLength(2);
    },
    RUN_TIMEOUT_MS,
  );
});
