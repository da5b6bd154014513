import { afterEach, describe, expect, it } from 'vitest';
import type { Transcript as RunTranscript } from '../../../contracts/payloads.ts';
import type { RunInterrupt, RunNote } from '../../../contracts/steering.ts';
import {
  ECHO,
  RUN_TIMEOUT_MS,
  callEntry,
  doneEntry,
  hostCli,
  startAutonomyHost,
  type AutonomyHost,
  type Transcript,
} from './helpers/autonomy-host.ts';
import { RecordingSpawner } from './helpers/recording-spawner.ts';
import {
  SLOW_WAIT,
  startSlowServer,
  writeSlowSkill,
  type SlowServer,
} from './helpers/slow-skill.ts';

const NOTE = 'Use the staging account, not production.';
const FRAMING = 'Note from the person supervising this run';

/** The messages of each LLM prompt the host recorded for the run, in order. */
async function prompts(host: AutonomyHost, runId: string): Promise<{ content: string }[][]> {
  const r = await host.request('GET', `/v1/runs/${runId}/transcript`);
  expect(r.status).toBe(200);
  return (r.body as RunTranscript).items
    .filter((i) => i.kind === 'llm.prompt')
    .map((i) => (i.content as { messages: { content: string }[] }).messages);
}

async function notesOf(host: AutonomyHost, runId: string): Promise<RunNote[]> {
  const r = await host.request('GET', `/v1/runs/${runId}/notes`);
  expect(r.status, r.text).toBe(200);
  return (r.body as { notes: RunNote[] }).notes;
}

/**
 * Issue 24: a person steers a live run. A note reaches the agent at its next LLM step,
 * once, and stays in its conversation; an interrupt pauses the run at its next step
 * boundary, before that step starts anything, and a normal resume continues it.
 */
describe('steering a live run', () => {
  let host: AutonomyHost | undefined;
  let slow: SlowServer | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  let spawner: RecordingSpawner | undefined;
  afterEach(async () => {
    slow?.release();
    await host?.stop();
    await spawner?.killAll();
    await slow?.close();
    await cleanup?.();
    host = slow = cleanup = spawner = undefined;
  });

  async function withSlowSkill(transcript: Transcript): Promise<AutonomyHost> {
    slow = await startSlowServer();
    spawner = new RecordingSpawner();
    host = await startAutonomyHost({ transcript, spawner, allowLoopbackHttp: true });
    const skill = await writeSlowSkill(slow.origin);
    cleanup = skill.cleanup;
    await host.installSkill(skill.dir);
    return host;
  }

  it(
    'a note sent while a tool call runs is in the next LLM request, once, and stays in the conversation',
    async () => {
      const h = await withSlowSkill({
        entries: [
          callEntry('c1', SLOW_WAIT, {}),
          callEntry('c2', ECHO, { text: 'staging' }, { expect: { last_content_includes: NOTE } }),
          doneEntry('Done on staging.'),
        ],
      });
      slow?.hold();
      const inFlight = slow?.nextHit();
      const run = await h.createRun({ goal: 'Deploy the report.' });
      await inFlight;
      const sent = await h.request('POST', `/v1/runs/${run.id}/notes`, { text: NOTE });
      expect(sent.status, sent.text).toBe(201);
      expect(sent.body).toMatchObject({ run_id: run.id, text: NOTE, delivered_at: null });
      slow?.release();

      const ended = await h.settle(run.id, RUN_TIMEOUT_MS);
      expect(ended.state).toBe('done');
      const [first, second, third] = await prompts(h, run.id);
      const withNote = (messages: { content: string }[] | undefined) =>
        (messages ?? []).filter((m) => m.content.includes(NOTE));
      // Not in the request made before it was sent; the next one ends with it, framed.
      expect(withNote(first)).toEqual([]);
      expect(second?.at(-1)?.content).toContain(FRAMING);
      expect(second?.at(-1)?.content).toContain(NOTE);
      // The worker kept it: the step after still has it, exactly once (never sent again).
      expect(withNote(third)).toHaveLength(1);

      const [note] = await notesOf(h, run.id);
      expect(note).toMatchObject({ delivered_segment: 0 });
      expect(note?.delivered_at).not.toBeNull();
      const chain = await h.runChain(run.id);
      const recorded = chain.find((e) => e.event_type === 'run.note');
      expect(recorded?.actor).toBe('admin');
      // The chain names the text by digest, never holds it.
      expect(JSON.stringify(recorded?.data)).not.toContain(NOTE);
      expect((recorded?.data.text as { digest?: string } | undefined)?.digest).toMatch(/^sha256:/);
      const delivered = chain.filter((e) => e.event_type === 'run.note_delivered');
      expect(delivered.map((e) => e.data)).toEqual([{ note_ids: [note?.id], segment: 0 }]);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'a note handed to a worker that dies before its checkpoint reaches the next worker; none is delivered twice',
    async () => {
      spawner = new RecordingSpawner((i) => (i === 0 ? 'drop_notes' : 'real'));
      host = await startAutonomyHost({
        transcript: {
          entries: [
            // Answered to the worker that dies before it checkpoints.
            callEntry('c1', ECHO, { text: 'lost' }),
            // The next worker starts afresh; its first request must carry the note.
            callEntry('c2', ECHO, { text: 'x' }, { expect: { last_content_includes: NOTE } }),
            doneEntry('Done.'),
          ],
        },
        spawner,
      });
      const h = host;
      // Held before its first segment, so the note waits for the first LLM step.
      expect((await h.request('POST', '/v1/agents/pause', { reason: 'set up' })).status).toBe(200);
      const run = await h.createRun({ goal: 'Echo.' });
      expect((await h.request('POST', `/v1/runs/${run.id}/notes`, { text: NOTE })).status).toBe(
        201,
      );
      expect((await h.request('POST', '/v1/agents/resume', {})).status).toBe(200);

      const ended = await h.settle(run.id, RUN_TIMEOUT_MS);
      expect(ended.state).toBe('done');
      expect(ended.usage.retries).toBe(1);
      const all = await prompts(h, run.id);
      // Handed out twice (the dying worker never kept it), in the conversation once after.
      expect(all.map((p) => p.filter((m) => m.content.includes(NOTE)).length)).toEqual([1, 1, 1]);
      const [note] = await notesOf(h, run.id);
      expect(note?.delivered_segment).toBe(1);
      const delivered = (await h.runChain(run.id)).filter(
        (e) => e.event_type === 'run.note_delivered',
      );
      expect(delivered.map((e) => e.data)).toEqual([{ note_ids: [note?.id], segment: 1 }]);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'an interrupt pauses the run at its next step: the tool call the worker issues after it never runs, and a resume continues it',
    async () => {
      const h = await withSlowSkill({
        entries: [
          {
            message: {
              content: '',
              tool_calls: [
                { id: 'c1', name: SLOW_WAIT, arguments: {} },
                { id: 'c2', name: ECHO, arguments: { text: 'after the interrupt' } },
              ],
            },
          },
          doneEntry('Done.', { expect: { last_tool_name: ECHO } }),
        ],
      });
      slow?.hold();
      const inFlight = slow?.nextHit();
      const run = await h.createRun({ goal: 'Wait, then echo.' });
      await inFlight;
      const sent = await h.request('POST', `/v1/runs/${run.id}/interrupt`, {
        reason: 'wrong account',
      });
      expect(sent.status, sent.text).toBe(200);
      expect((sent.body as RunInterrupt).applied_at).toBeNull();
      slow?.release();

      const paused = await h.waitForState(run.id, ['paused_external_event']);
      expect(paused.waiting_for).toBe('person.resume');
      expect(paused.state_reason).toBe('interrupted by admin: wrong account');
      await h.waitForEntry(
        (e) => e.run_id === run.id && e.event_type === 'segment.ended',
        RUN_TIMEOUT_MS,
      );
      let chain = await h.runChain(run.id);
      const executed = () =>
        chain.filter((e) => e.event_type === 'skill.execute').map((e) => e.data.tool);
      // The call in flight finished; the one issued after the interrupt did not start.
      expect(executed()).toEqual([SLOW_WAIT]);
      expect(chain.filter((e) => e.event_type === 'run.interrupt')).toHaveLength(1);
      expect((await h.getRun(run.id)).run.usage.retries).toBe(0);
      // A paused run has no step to interrupt.
      const again = await h.request('POST', `/v1/runs/${run.id}/interrupt`, {});
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ error: { code: 'RUN_NOT_ACTIVE' } });

      expect((await h.request('POST', `/v1/runs/${run.id}/resume`, {})).status).toBe(200);
      const ended = await h.settle(run.id, RUN_TIMEOUT_MS);
      expect(ended.state).toBe('done');
      expect(ended.usage.retries).toBe(0);
      chain = await h.runChain(run.id);
      expect(executed()).toEqual([SLOW_WAIT, ECHO]);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'an ended run takes no note and no interrupt (409 RUN_ENDED); a connector may not steer another’s run, and is audited',
    async () => {
      host = await startAutonomyHost({ transcript: { entries: [doneEntry('Done.')] } });
      const h = host;
      const run = await h.settle((await h.createRun({ goal: 'Nothing to do.' })).id);
      const note = await h.request('POST', `/v1/runs/${run.id}/notes`, { text: NOTE });
      expect(note.status).toBe(409);
      expect(note.body).toMatchObject({ error: { code: 'RUN_ENDED' } });
      const stop = await h.request('POST', `/v1/runs/${run.id}/interrupt`);
      expect(stop.status).toBe(409);
      expect(stop.body).toMatchObject({ error: { code: 'RUN_ENDED' } });
      const blank = await h.request('POST', `/v1/runs/${run.id}/notes`, { text: '   ' });
      expect(blank.status).toBe(400);
      const long = await h.request('POST', `/v1/runs/${run.id}/notes`, { text: 'x'.repeat(4001) });
      expect(long.status).toBe(400);

      const token = await h.request('POST', '/v1/tokens', {
        kind: 'connector',
        label: 'another program',
        connector_id: 'other',
        scopes: ['runs:read', 'runs:cancel'],
      });
      expect(token.status, token.text).toBe(201);
      const secret = (token.body as { token: string }).token;
      const asConnector = (path: string, body?: unknown) =>
        fetch(`${h.started.gateway.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
          body: JSON.stringify(body ?? {}),
        });
      expect((await asConnector(`/v1/runs/${run.id}/notes`, { text: NOTE })).status).toBe(403);
      expect((await asConnector(`/v1/runs/${run.id}/interrupt`)).status).toBe(403);
      const denied = (await h.request('GET', '/v1/chain?event_type=auth.denied')).body as {
        entries: { data: Record<string, unknown> }[];
      };
      expect(denied.entries.map((e) => e.data.reason)).toEqual(
        expect.arrayContaining(['admin_only', 'not_owner']),
      );
    },
    RUN_TIMEOUT_MS,
  );

  it(
    '`ccos runs note` and `ccos runs interrupt` steer a run from the command line',
    async () => {
      const h = await withSlowSkill({
        entries: [
          callEntry('c1', SLOW_WAIT, {}),
          doneEntry('Done.', { expect: { last_content_includes: NOTE } }),
        ],
      });
      const ccos = hostCli(h);
      slow?.hold();
      const inFlight = slow?.nextHit();
      const run = await h.createRun({ goal: 'Wait.' });
      await inFlight;
      const noted = await ccos('runs', 'note', run.id, NOTE);
      expect(noted.code, noted.stderr).toBe(0);
      expect(noted.stdout).toMatch(/^note note_\S+ waits for the next step of /);
      const stopped = await ccos('--json', 'runs', 'interrupt', run.id, '--reason', 'check first');
      expect(stopped.code, stopped.stderr).toBe(0);
      expect(JSON.parse(stopped.stdout)).toMatchObject({ run_id: run.id, reason: 'check first' });
      slow?.release();
      const paused = await h.waitForState(run.id, ['paused_external_event']);
      expect(paused.state_reason).toBe('interrupted by admin: check first');
      // The note waits through the pause and reaches the resumed segment's first LLM step.
      expect((await ccos('runs', 'resume', run.id)).code).toBe(0);
      expect((await h.settle(run.id, RUN_TIMEOUT_MS)).state).toBe('done');
      const [note] = await notesOf(h, run.id);
      expect(note?.delivered_segment).toBe(1);
      const ended = await ccos('runs', 'note', run.id, 'too late');
      expect(ended.code).not.toBe(0);
      expect(ended.stderr).toContain('RUN_ENDED');
    },
    RUN_TIMEOUT_MS,
  );
});
