import { describe, expect, it } from 'vitest';
import type { Run } from '../../contracts/runs.ts';
import { callEntry, doneEntry } from '../integration/autonomy/helpers/autonomy-host.ts';
// The person's own pack, which asks before memory.write: the run waits for the person.
import { DEFAULT_POLICY_PACK } from '../../main/policy/policy-packs.ts';
import { browserTestsSkipReason } from './helpers/browser.ts';
import { expectAccessible } from './helpers/page-checks.ts';
import { signedInUi } from './helpers/signed-in-ui.ts';

const skip = browserTestsSkipReason();
const REMEMBER = 'echo-notes__remember';
const UI_TIMEOUT_MS = 60_000;
const NOTE = 'Say it in French, please.';

/**
 * Issue 24 in Chromium against a real headless host: the person sends a run's agent a note
 * from the Run page and the agent's next LLM request holds it (the replay checks it, and
 * fails the run otherwise); the Interrupt button pauses a run at its next step.
 */
describe.skipIf(skip !== undefined)('steering a run from the UI', () => {
  const session = signedInUi({
    transcript: {
      entries: [
        callEntry('call_1', REMEMBER, { key: 'shopping', note: 'milk' }),
        // Answered only when the request's last message is the person's note.
        doneEntry('Noté.', { expect: { last_content_includes: NOTE } }),
      ],
    },
  });

  const openRun = async (run: Run): Promise<void> => {
    const { ui, page } = session;
    await page.goto(`${ui.url}/runs/${encodeURIComponent(run.id)}`);
    await page.getByRole('heading', { name: run.goal }).waitFor();
  };

  it(
    'a note sent from the Run page reaches the agent’s next LLM step and shows as read',
    async () => {
      const { ui, page } = session;
      const run = await ui.createRun({
        goal: 'Remember the milk',
        policy_pack: DEFAULT_POLICY_PACK.id,
      });
      await ui.waitForState(run.id, ['paused_approval']);
      await openRun(run);
      const form = page.getByRole('form', { name: 'Note to the agent' });
      await form.getByLabel('Note').fill(NOTE);
      await form.getByRole('button', { name: 'Send note' }).click();
      const notes = page.getByTestId('run-notes');
      await notes.getByText('waiting for the next step').waitFor();
      await page.getByTestId('timeline').locator('[data-event-type="run.note"]').waitFor();
      await expectAccessible(page, 'run page with a note waiting');

      const { pending_approvals: pending } = await ui.getRun(run.id);
      const approval = pending[0];
      expect(approval).toBeDefined();
      const decided = await ui.request('POST', `/v1/approvals/${approval?.id ?? ''}`, {
        decision: 'approve',
      });
      expect(decided.status, decided.text).toBe(200);
      const ended = await ui.settle(run.id, UI_TIMEOUT_MS);
      expect(ended.state).toBe('done');
      await notes.getByText('read in segment 1').waitFor();
      await ui.screenshot(page, 'run-note-read');
    },
    UI_TIMEOUT_MS,
  );

  it(
    'the Interrupt button pauses a run at its next step, for a person to resume',
    async () => {
      const { ui, page } = session;
      // Held before its first segment, so the run is still pending when the button is pressed.
      expect((await ui.request('POST', '/v1/agents/pause', { reason: 'e2e' })).status).toBe(200);
      const run = await ui.createRun({
        goal: 'Remember the eggs',
        policy_pack: DEFAULT_POLICY_PACK.id,
      });
      await openRun(run);
      await page.getByRole('button', { name: 'Interrupt at the next step' }).click();
      await page.getByTestId('timeline').locator('[data-event-type="run.interrupt"]').waitFor();
      expect((await ui.request('POST', '/v1/agents/resume', {})).status).toBe(200);

      const paused = await ui.waitForState(run.id, ['paused_external_event'], UI_TIMEOUT_MS);
      expect(paused.state_reason).toBe('interrupted by admin: interrupted in the UI');
      await page.getByText('interrupted by admin: interrupted in the UI').first().waitFor();
      await page.getByRole('button', { name: 'Resume now' }).waitFor();
      await ui.screenshot(page, 'run-interrupted');
    },
    UI_TIMEOUT_MS,
  );
});
