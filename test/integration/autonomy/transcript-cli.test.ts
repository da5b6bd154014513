import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transcript } from '../../../contracts/payloads.ts';
import {
  ECHO,
  RUN_TIMEOUT_MS,
  callEntry,
  doneEntry,
  startAutonomyHost,
  type AutonomyHost,
  hostCli,
} from './helpers/autonomy-host.ts';

/** Looks like an OpenAI key: the redactor's patterns mask it wherever it is recorded. */
const KEY_LIKE = 'sk-proj-Zq81xY7LmN0pQrStUvWx42ab';

describe('ccos runs transcript', () => {
  let host: AutonomyHost;
  let runId: string;
  const ccos = (...args: string[]) => hostCli(host)(...args);

  beforeAll(async () => {
    host = await startAutonomyHost({
      transcript: {
        entries: [
          callEntry('c1', ECHO, { text: `the key is ${KEY_LIKE}` }),
          doneEntry('All echoed.'),
        ],
      },
    });
    const created = await host.createRun({ goal: 'Echo the note.' });
    runId = (await host.settle(created.id)).id;
  }, RUN_TIMEOUT_MS);
  afterAll(async () => {
    await host.stop();
  });

  it('prints each LLM prompt and answer and each tool input and outcome, redacted', async () => {
    const r = await ccos('runs', 'transcript', runId);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^\d\d:\d\d:\d\d \S+ {2}prompt to replay .*\n {2}\(\d+ messages; the last:\)\n {2}user: Begin working on the goal\./m,
    );
    expect(r.stdout).toMatch(
      /answer from replay.*\n {2}assistant:\n {4}→ echo-notes__echo \{"text":"the key is /m,
    );
    expect(r.stdout).toMatch(/call echo-notes__echo .*\n {2}\{\n {4}"text": "the key is /m);
    expect(r.stdout).toMatch(
      /outcome of echo-notes__echo .*\n {2}\{\n {4}"output": \{\n {6}"text": "the key is \[REDACTED/m,
    );
    expect(r.stdout).toMatch(/answer from replay.*\n {2}assistant: All echoed\./m);
    expect(r.stdout).not.toContain(KEY_LIKE);
  });

  it('--json gives the items in the order they were recorded', async () => {
    const r = await ccos('--json', 'runs', 'transcript', runId);
    const t = JSON.parse(r.stdout) as Transcript;
    expect(t.items.map((i) => i.kind)).toEqual([
      'llm.prompt',
      'llm.answer',
      'tool.input',
      'tool.outcome',
      'llm.prompt',
      'llm.answer',
    ]);
    expect(r.stdout).not.toContain(KEY_LIKE);
  });
});
