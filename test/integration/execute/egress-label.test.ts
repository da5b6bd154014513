import { afterEach, describe, expect, it } from 'vitest';
import { label } from '../../../main/policy/labels.ts';
import { NO_OPERATION_APPROVALS } from '../../support/test-policy-packs.ts';
import { AGENT, startExecuteHost, type ExecuteTestHost } from './helpers/execute-host.ts';
import { manifest, operation } from './helpers/skill-folder.ts';

/** Asks about no capability, but keeps the label rules at their defaults. */
const LABELLED = {
  ...NO_OPERATION_APPROVALS,
  id: 'labelled',
  taint_gate: undefined,
  egress_label: undefined,
};

const CODE = `export async function send(input) {
  await ccos.http.fetch({ url: 'https://mail.example.com/send', method: 'POST', body: JSON.stringify(input) });
  return { sent: true };
}
`;

/**
 * Egress by label (issue 22): a call that can reach the network, asked for by an answer whose
 * window held personal data, is refused before anything runs, and the refusal is a
 * `policy.decision` with rule_id `egress.label`.
 */
describe('egress by label', () => {
  let h: ExecuteTestHost | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('refuses a network call from a window holding pii.chat.message, on the chain with its rule', async () => {
    h = await startExecuteHost({ policyPacks: [LABELLED] });
    await h.install(
      manifest('mail', [operation('send', { capabilities: ['net.http'] })], {
        egress: [{ origin: 'https://mail.example.com', methods: ['POST'] }],
      }),
      CODE,
    );
    const run = await h.runningRun(undefined, 'labelled');
    const outcome = await h.started.pipeline.execute({
      run,
      step_id: 'stp_egress',
      segment: 0,
      tool: 'mail__send',
      params: { body: 'meet me at the mill' },
      ctx: AGENT,
      window: {
        label: label('pii.chat.message'),
        taint: 'trusted',
        sources: [
          {
            name: 'skill inbox@1.0.0 op latest',
            step_id: 'stp_1',
            label: label('pii.chat.message'),
            taint: 'trusted',
          },
        ],
        argument_sources: { body: ['the window'] },
      },
    });
    expect(outcome.status).toBe('refused');
    expect(outcome.status === 'refused' ? outcome.reason : '').toContain(
      'skill inbox@1.0.0 op latest',
    );
    const decisions = (await h.chain('policy.decision')).filter((e) => e.run_id === run.id);
    expect(decisions.map((e) => e.rule_id)).toEqual(['egress.label']);
    // Nothing went out: the only egress entries would be the sandbox's.
    const egress = (await h.chain('egress.attempt')).filter((e) => e.run_id === run.id);
    expect(egress).toEqual([]);
  });
});
