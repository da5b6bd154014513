import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { callEntry, doneEntry } from '../integration/autonomy/helpers/autonomy-host.ts';
import { DATABASE_FILE } from '../../main/store/open-store.ts';
// The person's own pack, which asks before memory.write: these runs must wait for the UI.
import { DEFAULT_POLICY_PACK } from '../../main/policy/policy-packs.ts';
import { projectPath } from '../support/project-path.ts';
import { rawSql } from '../support/raw-sqlite.ts';
import { browserTestsSkipReason } from './helpers/browser.ts';
import { checkPage } from './helpers/page-checks.ts';
import { signedInUi } from './helpers/signed-in-ui.ts';

/**
 * The acceptance list, driven in Chromium against a real headless host (replay LLM,
 * real workers, real isolates): a run's meters move live, approvals are decided in the UI,
 * a missing-input form resumes its run, a skill installs through the consent screen, and
 * the audit page names the link a test broke in the database. Each page is checked with axe
 * and at 640 CSS px (200 % zoom), and a screenshot of each is saved.
 */

const skip = browserTestsSkipReason();
const REMEMBER = 'echo-notes__remember';
const UI_TIMEOUT_MS = 60_000;

describe.skipIf(skip !== undefined)('the desktop UI in Chromium', () => {
  // Every run of this host asks to remember a note (an approval), then says it is done.
  const session = signedInUi({
    transcript: {
      entries: [
        callEntry(
          'call_1',
          REMEMBER,
          { key: 'shopping', note: 'milk' },
          { usage: { input_tokens: 200, output_tokens: 20 } },
        ),
        doneEntry('Noted.', { usage: { input_tokens: 50, output_tokens: 5 } }),
      ],
    },
  });

  it('shows the empty Runs page with what to do next', async () => {
    const { ui, page } = session;
    await page.getByText('No runs yet').waitFor();
    await checkPage(ui, page, 'runs-empty');
  });

  it('creates a run in the UI, shows its approval (badge, title, entry), approves it, and the run ends done', async () => {
    const { ui, page } = session;
    await page.getByLabel('Goal').fill('Remember that we need milk');
    await page.getByLabel('Max steps').fill('10');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/runs\/run_/);
    const runId = decodeURIComponent(new URL(page.url()).pathname.split('/')[2] ?? '');
    await page.getByRole('heading', { name: 'Remember that we need milk' }).waitFor();

    // Live: the steps meter moves without a reload as the agent makes its first calls.
    await page
      .getByTestId('meter-steps')
      .filter({ hasNotText: /^0%/ })
      .waitFor({ timeout: UI_TIMEOUT_MS });
    const badge = page.getByTestId('approvals-badge');
    await badge.waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await badge.textContent()).toBe('1');
    await expect.poll(() => page.title()).toContain('(1)');
    await page.getByText('Waiting for you').waitFor();
    await checkPage(ui, page, 'run-detail-waiting');

    await page.getByRole('link', { name: /Approvals/ }).click();
    const card = page.getByTestId('approval');
    await card.waitFor();
    expect(await card.textContent()).toContain(REMEMBER);
    await checkPage(ui, page, 'approvals');
    await card.getByLabel('Reason (recorded on the chain)').fill('fine by me');
    await card.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('Nothing waits for you').waitFor();

    await ui.waitForState(runId, ['done'], UI_TIMEOUT_MS);
    await page.goto(`${ui.url}/runs/${encodeURIComponent(runId)}`);
    await page
      .getByTestId('run-state')
      .filter({ hasText: 'done' })
      .waitFor({ timeout: UI_TIMEOUT_MS });
    await page.getByTestId('timeline').waitFor();
    await checkPage(ui, page, 'run-detail-done');
    const decisions = await ui.runChain(runId, 'approval.decision');
    expect(decisions.map((d) => d.data.decision)).toEqual(['approve']);
  });

  it('denies an approval with the d key and the run does not get its tool call', async () => {
    const { ui, page } = session;
    const run = await ui.createRun({
      goal: 'Remember something else',
      budget: { max_steps: 10 },
      policy_pack: DEFAULT_POLICY_PACK.id,
    });
    await page.goto(`${ui.url}/approvals`);
    const card = page.getByTestId('approval');
    await card.waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator('body').press('d');
    await page.getByText('Nothing waits for you').waitFor({ timeout: UI_TIMEOUT_MS });
    const decisions = await ui.runChain(run.id, 'approval.decision');
    expect(decisions.map((d) => d.data.decision)).toEqual(['deny']);
    const executed = await ui.runChain(run.id, 'skill.execute');
    expect(executed.filter((e) => e.data.outcome === 'ok')).toEqual([]);
  });

  it('lists the runs (filtered, searched) with their meters', async () => {
    const { ui, page } = session;
    await page.goto(`${ui.url}/runs`);
    await page.getByTestId('run-row').first().waitFor();
    expect(await page.getByTestId('run-row').count()).toBe(2);
    await page.getByLabel('Search').fill('milk');
    await expect.poll(() => page.getByTestId('run-row').count()).toBe(1);
    await page.getByLabel('Search').fill('');
    await checkPage(ui, page, 'runs');
  });

  it('verifies the chain, and names the broken link after the database is tampered with', async () => {
    const { ui, page } = session;
    await page.goto(`${ui.url}/audit`);
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await page.getByTestId('verify-result').getByText('Intact').waitFor();
    await checkPage(ui, page, 'audit');

    const [victim] = (await rawSql(
      path.join(ui.dataDir, DATABASE_FILE),
      "SELECT seq FROM chain WHERE event_type = 'approval.decision' ORDER BY seq LIMIT 1",
    )) as { seq: number }[];
    if (victim === undefined) throw new Error('no approval.decision entry to tamper with');
    await rawSql(
      path.join(ui.dataDir, DATABASE_FILE),
      `UPDATE chain SET data = '{"decision":"deny"}' WHERE seq = ?`,
      [victim.seq],
    );
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    const broken = page.getByTestId('verify-result').getByRole('alert');
    await broken.waitFor();
    expect(await broken.textContent()).toContain(`#${victim.seq}`);
    await ui.screenshot(page, 'audit-broken');
  });

  it('shows the settings: host, LLM test, agent isolation (red unless jailed), secrets by name', async () => {
    const { ui, page } = session;
    await page.goto(`${ui.url}/settings`);
    await page.getByTestId('isolation').waitFor();
    const health = (await ui.request('GET', '/v1/health')).body as { agents: { status: string } };
    expect(await page.getByTestId('isolation').getAttribute('class')).toBe(
      health.agents.status === 'jailed' ? 'ok' : 'unsafe',
    );
    await page.getByRole('button', { name: 'Test the LLM connection' }).click();
    await page.getByTestId('llm-test').getByText('answered').waitFor();
    await page.getByLabel('Name').fill('DEMO_TOKEN');
    await page.getByLabel('Value (never shown again)').fill('s3cret-value-for-ui');
    await page.getByRole('button', { name: 'Store' }).click();
    await page.locator('.secret-list').getByText('DEMO_TOKEN').waitFor();
    expect(await page.content()).not.toContain('s3cret-value-for-ui');
    await checkPage(ui, page, 'settings');
  });

  it('continues an ended run from its checkpoint as a new run linked to it', async () => {
    const { ui, page } = session;
    const listed = (await ui.request('GET', '/v1/runs?state=done')).body as {
      runs: { id: string }[];
    };
    const doneRun = listed.runs[0];
    if (doneRun === undefined) throw new Error('no done run to continue');
    await page.goto(`${ui.url}/runs/${encodeURIComponent(doneRun.id)}`);
    await page.getByLabel('Max steps for the new run').fill('12');
    await page.getByRole('button', { name: 'Continue as a new run' }).click();
    await page.waitForURL((u) => !u.pathname.endsWith(encodeURIComponent(doneRun.id)));
    await page.getByText('continues').waitFor();
    const nextId = decodeURIComponent(new URL(page.url()).pathname.split('/')[2] ?? '');
    const next = await ui.getRun(nextId);
    expect(next.run.parent_run_id).toBe(doneRun.id);
    expect(next.run.budget.max_steps).toBe(12);
    expect((await ui.getRun(doneRun.id)).run.state).toBe('done');
  });
});

describe.skipIf(skip !== undefined)('skills and missing input in Chromium', () => {
  // The agent asks to remember without giving the note: the person is asked for it.
  const session = signedInUi({
    installEchoNotes: false,
    transcript: {
      entries: [callEntry('call_1', REMEMBER, { key: 'todo' }), doneEntry('Noted.')],
    },
  });

  it('installs a skill through the consent screen listing what it may reach', async () => {
    const { ui, page } = session;
    await page.goto(`${ui.url}/skills`);
    await page.getByText('No skills installed').waitFor();
    await page.getByLabel(/Folder, .tgz/).fill(projectPath('plugins', 'echo-notes'));
    await page.getByRole('button', { name: 'Check what it may reach' }).click();
    const consent = page.getByTestId('consent');
    await consent.waitFor();
    expect(await consent.getByTestId('permissions').textContent()).toContain('memory.write');
    await checkPage(ui, page, 'skills-consent');
    // Nothing is installed before the person says so.
    expect((await ui.request('GET', '/v1/skills')).body).toMatchObject({ skills: [] });
    await consent.getByRole('button', { name: 'Install', exact: true }).click();
    await page.getByTestId('skill').waitFor();
    await checkPage(ui, page, 'skills');
  });

  it(
    'answers a missing_input approval with its form and the run resumes to done',
    async () => {
      const { ui, page } = session;
      const run = await ui.createRun({
        goal: 'Remember my todo',
        budget: { max_steps: 10 },
        policy_pack: DEFAULT_POLICY_PACK.id,
      });
      await page.goto(`${ui.url}/approvals`);
      const card = page.getByTestId('approval').and(page.locator('[data-kind="missing_input"]'));
      await card.waitFor({ timeout: UI_TIMEOUT_MS });
      // Validation before sending: the required field is named.
      await card.getByRole('button', { name: 'Submit and resume' }).click();
      await card.getByText('note is required').waitFor();
      await checkPage(ui, page, 'approvals-missing-input');
      await card.getByLabel(/^note/).fill('buy bread');
      // Answering is asynchronous: the run is still paused on the missing input right after
      // the click, so wait for what the answer causes, never for a state it already has.
      const asked = ui.waitForEntry(
        (e) =>
          e.run_id === run.id && e.event_type === 'approval.request' && e.data.kind === 'operation',
        UI_TIMEOUT_MS,
      );
      await card.getByRole('button', { name: 'Submit and resume' }).click();
      await card.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
      // The default pack asks before memory.write: approve the now complete call too.
      await asked;
      const operation = page.getByTestId('approval').and(page.locator('[data-kind="operation"]'));
      await operation.getByRole('button', { name: 'Approve', exact: true }).click();
      const done = await ui.waitForState(run.id, ['done'], UI_TIMEOUT_MS);
      expect(done.state).toBe('done');
      const approvals = (await ui.getRun(run.id)).pending_approvals;
      expect(approvals).toEqual([]);
      // Longer than the sum of the waits above, so a stuck step fails naming itself.
    },
    4 * UI_TIMEOUT_MS,
  );

  it('creates a schedule, shows its next fire, triggers it now and pauses it', async () => {
    const { ui, page } = session;
    await page.goto(`${ui.url}/schedules`);
    await page.getByText('No schedules').waitFor();
    await page.getByLabel('Goal of each run').fill('Daily digest');
    await page.getByLabel('Cron expression').fill('0 9 * * *');
    await page.getByLabel('Time zone').fill('UTC');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    const card = page.getByTestId('schedule');
    await card.waitFor();
    expect(await card.textContent()).toContain('cron 0 9 * * * (UTC)');
    expect(await card.textContent()).not.toContain('Next firenone');
    await card.getByRole('button', { name: 'Trigger now' }).click();
    await card.locator('summary').click();
    await card
      .getByTestId('recent-fires')
      .locator('li')
      .first()
      .waitFor({ timeout: UI_TIMEOUT_MS });
    await card.getByRole('button', { name: 'Pause' }).click();
    await card.locator('.badge').filter({ hasText: 'paused' }).waitFor();
    await checkPage(ui, page, 'schedules');
  });
});
