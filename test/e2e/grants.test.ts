import { describe, expect, it } from 'vitest';
import type { Grant } from '../../contracts/grants.ts';
import { DEFAULT_POLICY_PACK } from '../../main/policy/policy-packs.ts';
import { callEntry, doneEntry } from '../integration/autonomy/helpers/autonomy-host.ts';
import { browserTestsSkipReason } from './helpers/browser.ts';
import { expectAccessible } from './helpers/page-checks.ts';
import { signedInUi } from './helpers/signed-in-ui.ts';

const skip = browserTestsSkipReason();
const REMEMBER = 'echo-notes__remember';
const UI_TIMEOUT_MS = 60_000;
/**
 * Above the sum of the waits a slow step may take, so that a step that hangs fails with its own
 * locator or run state, not as an anonymous test timeout (a quiet full run once timed out
 * here at 60 s without saying which step; it did not recur in 12 runs alone).
 */
const TEST_TIMEOUT_MS = 4 * UI_TIMEOUT_MS;

/** Issue 22 in the UI: approve as a standing grant from the card, see it listed, revoke it. */
describe.skipIf(skip !== undefined)('standing grants in the desktop UI', () => {
  // Each run writes two notes; the default pack asks before every memory write.
  const session = signedInUi({
    transcript: {
      entries: [
        callEntry('call_1', REMEMBER, { key: 'one', note: 'milk' }),
        callEntry('call_2', REMEMBER, { key: 'two', note: 'bread' }),
        doneEntry('Noted.'),
      ],
    },
  });

  it(
    'approving as a grant lets the second write through; the grant is listed and revoked at once',
    async () => {
      const { ui, page } = session;
      const run = await ui.createRun({
        goal: 'note two things',
        policy_pack: DEFAULT_POLICY_PACK.id,
      });
      await page.goto(`${ui.url}/approvals`);
      const card = page.getByTestId('approval');
      await card.waitFor({ timeout: UI_TIMEOUT_MS });
      await card.getByText('Approve as a standing grant').click();
      await card.getByLabel('For').selectOption('run');
      await expectAccessible(page, 'the grant form');
      await ui.screenshot(page, 'approvals-grant-form');
      await card.getByRole('button', { name: 'Approve and grant' }).click();

      expect((await ui.settle(run.id, UI_TIMEOUT_MS)).state).toBe('done');
      expect(await ui.runChain(run.id, 'approval.request')).toHaveLength(1);
      expect(await ui.runChain(run.id, 'grant.used')).toHaveLength(1);

      const listed = page.getByTestId('grant');
      await listed.waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await listed.textContent()).toContain(REMEMBER);
      await ui.screenshot(page, 'approvals-grants');
      await listed.getByRole('button', { name: 'Revoke' }).click();
      await page.getByText('None. Approve an operation').waitFor({ timeout: UI_TIMEOUT_MS });
      const all = (await ui.request('GET', `/v1/grants?run_id=${run.id}`)).body as {
        grants: Grant[];
      };
      expect(all.grants.map((g) => g.state)).toEqual(['revoked']);
    },
    TEST_TIMEOUT_MS,
  );
});
