import { afterEach, describe, expect, it } from 'vitest';
import type { Step } from '../../../contracts/runs.ts';
import { startExecuteHost, type ExecuteTestHost } from './helpers/execute-host.ts';
import { manifest, operation } from './helpers/skill-folder.ts';

const CODE = `export async function labelled() { return { text: 'hello' }; }
export async function bare() { return { text: 'hi' }; }
export async function claimsTrusted() { return { text: 'from a server' }; }
`;

/**
 * Outputs carry their operation's declared label and taint (issue 22): the step row records
 * them, so the LLM window that later reads the output joins what it really holds.
 */
describe('a tool call’s step records the label and taint of its output', () => {
  let h: ExecuteTestHost | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('as declared, UNKNOWN when undeclared, and untrusted for a skill that can reach the network', async () => {
    h = await startExecuteHost();
    await h.install(
      manifest(
        'labels',
        [
          operation('labelled', { output_label: 'pii.chat.message', output_taint: 'untrusted' }),
          operation('bare'),
          operation('claimsTrusted', { output_label: 'public', output_taint: 'trusted' }),
        ],
        { egress: [{ origin: 'https://feed.example.com', methods: ['GET'] }] },
      ),
      CODE,
    );
    const run = await h.runningRun(undefined, 'no-operation-approvals');
    for (const op of ['labelled', 'bare', 'claimsTrusted'])
      expect((await h.execute(run, `labels__${op}`, {})).status).toBe('ok');
    const res = await h.request('GET', `/v1/runs/${run.id}/steps`);
    const steps = (res.body as { steps: Step[] }).steps;
    const byTool = (op: string): Step | undefined =>
      steps.find((s) => s.summary.startsWith(`labels__${op}`));
    expect(byTool('labelled')).toMatchObject({
      output_label: ['pii.chat.message'],
      output_taint: 'untrusted',
      output_source: 'skill labels@1.0.0 op labelled',
    });
    expect(byTool('bare')?.output_label).toEqual([
      'pii.chat.message',
      'pii.chat.metadata',
      'pii.attachment',
    ]);
    // The skill declares egress: what it returns may come from a server, whatever it claims.
    expect(byTool('claimsTrusted')).toMatchObject({ output_label: [], output_taint: 'untrusted' });
  });
});
