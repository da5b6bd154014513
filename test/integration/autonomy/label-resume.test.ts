import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MemoryItem } from '../../../contracts/memory.ts';
import type { Run, Step } from '../../../contracts/runs.ts';
import { callStepId } from '../../../main/supervisor/call-step-id.ts';
import { makeTempDir, removeTempDir } from '../../support/test-store.ts';
import { writeSkillFolder } from '../execute/helpers/skill-folder.ts';
import type { CannedResponse, RecordingServer } from '../llm/recording-http-server.ts';
import { RUN_TIMEOUT_MS, TERMINAL } from './helpers/autonomy-host.ts';
import { startChildHost, type ChildHost } from './helpers/child-host.ts';
import { INBOX, INBOX_CODE } from './helpers/inbox-skill.ts';
import {
  finalAnswer,
  sentMessages,
  startScriptedLlm,
  toolCallAnswer,
} from './helpers/scripted-openai.ts';

/**
 * Issue 22's resume test: SIGKILL the host (a real `ccos serve` process) mid-goal right after
 * its agent wrote labelled memory; after a restart the run resumes from its checkpoint and
 * its memory and completes with the same labels — the memory row's, the read's step, and the
 * window of the answer after it.
 */
describe('labels across a host SIGKILL', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it(
    'a run killed after a labelled write resumes and completes with the same labels',
    async () => {
      const dataDir = await makeTempDir('ccos-label-resume-');
      cleanups.push(() => removeTempDir(dataDir));
      const victim: { host?: ChildHost } = {};
      // Resolved with the kill itself: awaiting it waits until the host has exited.
      let markKilled: (stopped: Promise<void>) => void = () => undefined;
      const killed = new Promise<void>((resolve) => {
        markKilled = resolve;
      });
      let seen = 0;
      const script: ((n: number) => CannedResponse)[] = [
        () => toolCallAnswer('i1', 'inbox__latest', {}),
        () => toolCallAnswer('m1', 'ccos__memory_put', { key: 'note', value: 'about Alice' }),
        // The request after the write: the host dies while the model "thinks".
        () => {
          markKilled(victim.host?.stop('SIGKILL') ?? Promise.resolve());
          return finalAnswer('never delivered');
        },
        () => toolCallAnswer('m2', 'ccos__memory_get', { key: 'note' }),
        () => finalAnswer('Done.'),
      ];
      const llm: RecordingServer = await startScriptedLlm(
        () => script[Math.min(seen++, script.length - 1)]?.(seen) ?? finalAnswer(),
      );
      cleanups.push(() => llm.close());
      const llmSettingsFile = path.join(dataDir, 'llm.json');
      await writeFile(
        llmSettingsFile,
        JSON.stringify({ kind: 'openai_compatible', base_url: `${llm.url}/v1`, model: 'm' }),
      );
      const folder = await writeSkillFolder(INBOX, INBOX_CODE);
      cleanups.push(folder.cleanup);

      const first = await startChildHost({ dataDir, llmSettingsFile });
      victim.host = first;
      cleanups.push(() => first.stop('SIGKILL'));
      const installed = await first.request('POST', '/v1/skills', { path: folder.dir });
      expect(installed.status, installed.text).toBe(201);
      const created = await first.request('POST', '/v1/runs', {
        goal: 'Read what came in and note it.',
        policy_pack: 'local-dev',
      });
      expect(created.status, created.text).toBe(201);
      const runId = (created.body as Run).id;
      // The event: the third request reached the model, and the host was killed for it.
      await killed;
      const before = llm.requests.length;

      const second = await startChildHost({ dataDir, llmSettingsFile });
      cleanups.push(() => second.stop('SIGKILL'));
      const deadline = Date.now() + RUN_TIMEOUT_MS;
      let run: Run;
      for (;;) {
        run = ((await second.request('GET', `/v1/runs/${runId}`)).body as { run: Run }).run;
        if (TERMINAL.includes(run.state)) break;
        if (Date.now() > deadline) throw new Error(`run still ${run.state}: ${second.stderr()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(run.state, run.state_reason ?? '').toBe('done');
      expect(run.usage.retries).toBe(1);
      // Resumed from the checkpoint: the first request after the restart re-sends the write's result.
      const resent = llm.requests[before];
      expect(
        sentMessages(resent ?? ({ body: undefined } as never)).filter((m) => m.role === 'tool'),
      ).toHaveLength(2);

      const items = (await second.request('GET', `/v1/memory?run_id=${runId}`)).body as {
        items: MemoryItem[];
      };
      expect(items.items.find((i) => i.key === 'note')).toMatchObject({
        label: ['pii.chat.message'],
        taint: 'trusted',
      });
      const steps = (
        (await second.request('GET', `/v1/runs/${runId}/steps`)).body as { steps: Step[] }
      ).steps;
      expect(steps.find((s) => s.step_id === callStepId(runId, 'm2'))).toMatchObject({
        output_label: ['pii.chat.message'],
        output_source: 'memory run/note',
      });
      // The last answer's window: the inbox result and the read, joined as before the kill.
      expect(steps.filter((s) => s.kind === 'llm').at(-1)).toMatchObject({
        output_label: ['pii.chat.message'],
        output_taint: 'trusted',
      });
      const last = llm.requests.at(-1);
      expect(last?.text).toContain('about Alice');
      await second.stop('SIGTERM');
    },
    4 * RUN_TIMEOUT_MS,
  );
});
