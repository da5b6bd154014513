import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatConversation } from '../../contracts/chat.ts';
import { SEND_MESSAGE_TOOL } from '../../main/outbox/send-message-definition.ts';
import { RUN_TIMEOUT_MS } from '../integration/autonomy/helpers/autonomy-host.ts';
import {
  finalAnswer,
  startScriptedLlm,
  toolCallAnswer,
} from '../integration/autonomy/helpers/scripted-openai.ts';
import {
  lastToolContent,
  replyingAgentHost,
  REPLYING,
  summarizeNewest,
  summaryIn,
} from '../integration/connectors/helpers/summarize-reply.ts';
import type {
  CannedResponse,
  RecordedRequest,
  RecordingServer,
} from '../integration/llm/recording-http-server.ts';
import { browserTestsSkipReason } from './helpers/browser.ts';
import { checkPage, expectAccessible } from './helpers/page-checks.ts';
import { startUiHost, type UiHost } from './helpers/ui-host.ts';

const skip = browserTestsSkipReason();
const CHANNEL = 'kitchen';
/** Two lines, typed with Shift+Enter between them. */
const FIRST_LINES = ['Please plan a dinner for four people on Friday evening.', 'No fish, please.'];
/** Markup in the person's text and in the agent's: each must show as the characters typed. */
const HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
const AGENT_MARKUP = '<img src=x onerror="window.__pwned = 3"><b>bold?</b>';

/**
 * Issue 24's Chat page in Chromium against a real headless host and a scripted agent (an
 * OpenAI-compatible server on 127.0.0.1 that reads each message only through
 * `ccos__transform_summarize` and answers with `ccos__send_message`): the person starts a
 * conversation and sends a message, which waits for the channel's approval; approved in the
 * inbox (another tab), the run's reply appears live on the open page; a reload shows both
 * from the history API; markup in either side's text renders as text.
 */
describe.skipIf(skip !== undefined)('the Chat page', () => {
  let ui: UiHost;
  let llm: RecordingServer;
  let context: BrowserContext;
  let page: Page;

  const script = (request: RecordedRequest): CannedResponse => {
    const first = summarizeNewest(request, 'to answer the person');
    if (first !== undefined) return first;
    const summary = summaryIn(lastToolContent(request));
    if (summary !== undefined)
      return toolCallAnswer('r-1', SEND_MESSAGE_TOOL, {
        connector_id: 'local-chat',
        channel_id: CHANNEL,
        text: `Noted ${AGENT_MARKUP}: ${summary}`,
      });
    return finalAnswer('Answered.');
  };

  const history = async (): Promise<ChatConversation> => {
    const res = await ui.request('GET', `/v1/chat/conversations/${CHANNEL}`);
    expect(res.status, res.text).toBe(200);
    return res.body as ChatConversation;
  };
  const messages = () => page.getByRole('list', { name: 'Messages' }).getByRole('listitem');
  const agentReplies = () => page.locator('[data-direction="outbound"]');
  const pwned = () => page.evaluate<unknown>('window.__pwned');

  beforeAll(async () => {
    llm = await startScriptedLlm(script);
    ui = await startUiHost(replyingAgentHost(llm.url));
    const record = await ui.request('PUT', '/v1/connectors/local-chat', {
      allowed_packs: [REPLYING.id],
    });
    expect(record.status, record.text).toBe(200);
    ({ context, page } = await ui.signIn());
  });

  afterAll(async () => {
    await ui.close();
    await llm.close();
  });

  it('says how to set the local chat up when there is none, and is in the navigation', async () => {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Chat' })
      .click();
    await page.getByRole('heading', { name: 'Chat', level: 1 }).waitFor();
    await page.getByText('No local chat yet').waitFor();
    await checkPage(ui, page, 'chat-no-connector');
    const put = await ui.request('PUT', '/v1/connectors/local-chat/adapter', {
      adapter: 'local_chat',
      inbound_auth: { mode: 'person' },
      template: {
        goal: 'Help the person',
        budget: { max_steps: 12 },
        policy_pack: REPLYING.id,
      },
    });
    expect(put.status, put.text).toBe(200);
    await page.reload();
    await page.getByText('No conversation open').waitFor();
  });

  it('refuses a conversation name the API would not take, then starts one', async () => {
    const form = page.getByRole('form', { name: 'New conversation' });
    await form.getByLabel('Name').fill('has spaces');
    await form.getByRole('button', { name: 'Start a conversation' }).click();
    await form
      .getByRole('alert')
      .getByText(/without spaces/)
      .waitFor();
    await form.getByLabel('Name').fill(CHANNEL);
    await form.getByRole('button', { name: 'Start a conversation' }).click();
    await page.waitForURL(`${ui.url}/chat/${CHANNEL}`);
    await page.getByText('No messages yet').waitFor();
  });

  it('sends with Enter (Shift+Enter is a newline) and shows the channel waiting for approval', async () => {
    const box = page.getByLabel('Message', { exact: true });
    await box.fill(FIRST_LINES[0] ?? '');
    await box.press('Shift+Enter');
    await box.pressSequentially(FIRST_LINES[1] ?? '');
    expect(await box.inputValue()).toBe(FIRST_LINES.join('\n'));
    await box.press('Enter');
    await page.getByTestId('waiting-approval').waitFor();
    await messages().first().getByText('waiting for the channel’s approval').waitFor();
    expect(await box.inputValue()).toBe('');
    expect(await messages().first().getByTestId('message-text').textContent()).toBe(
      FIRST_LINES.join('\n'),
    );
    await page
      .getByRole('navigation', { name: 'Conversations' })
      .locator(`[data-channel="${CHANNEL}"]`)
      .getByText('waiting for your approval')
      .waitFor();
    // Nothing reached an agent: the channel is not approved yet.
    expect(llm.requests).toHaveLength(0);
    await checkPage(ui, page, 'chat-waiting');
  });

  it(
    'shows the agent’s reply live once the channel is approved in the inbox',
    async () => {
      // The inbox in a second tab, so the chat page stays open and gets the reply by SSE.
      const inbox = await context.newPage();
      await inbox.goto(`${ui.url}/approvals`);
      const approval = inbox.locator('[data-kind="channel"]');
      await approval.getByText(`channel ${CHANNEL}`, { exact: false }).first().waitFor();
      await approval.getByRole('button', { name: 'Approve' }).click();
      await inbox.getByText('Nothing waits for you').waitFor({ timeout: RUN_TIMEOUT_MS });
      await inbox.close();

      const reply = agentReplies().first();
      await reply.waitFor({ timeout: RUN_TIMEOUT_MS });
      // A summary of the person's own message is as trusted as the message, and the local chat
      // is not egress: the reply asked no one (a webhook's would ask, twice over).
      const asked = await ui.request('GET', '/v1/chain?event_type=approval.request&limit=100');
      expect(asked.status, asked.text).toBe(200);
      const sendAsks = (asked.body as { entries: { data: { scope?: unknown } }[] }).entries.filter(
        (e) => e.data.scope === SEND_MESSAGE_TOOL,
      );
      expect(sendAsks).toEqual([]);
      const stored = (await history()).messages.find((m) => m.direction === 'outbound');
      expect(stored?.text).toContain(AGENT_MARKUP);
      expect(await reply.getByTestId('message-text').textContent()).toBe(stored?.text);
      // The agent's markup is characters on the page, never elements.
      expect(await page.locator('.chat-messages img, .chat-messages b').count()).toBe(0);
      expect(await pwned()).toBeUndefined();
      await messages().first().getByText('given to the agent').waitFor();
      // The page shows the road: the agent was given a summary instead of the text.
      await messages()
        .first()
        .getByTestId('message-road')
        .getByText(/never saw this text; it read it through summarize \(pii\.redacted\)/)
        .waitFor();
      await page.getByTestId('waiting-approval').waitFor({ state: 'detached' });
      // The agent saw a summary, never the raw text.
      for (const r of llm.requests) expect(r.text).not.toContain('No fish');
      await checkPage(ui, page, 'chat');
      await page.getByLabel('Theme').selectOption('dark');
      await expectAccessible(page, 'chat in dark');
      await ui.screenshot(page, 'chat-dark');
      await page.getByLabel('Theme').selectOption('system');
    },
    RUN_TIMEOUT_MS * 2,
  );

  it(
    'shows both after a reload, and the person’s markup as text',
    async () => {
      await page.reload();
      await agentReplies().first().waitFor();
      expect(await messages().count()).toBe(2);
      expect(await messages().first().getByTestId('message-text').textContent()).toBe(
        FIRST_LINES.join('\n'),
      );
      const first = (await history()).messages.find((m) => m.direction === 'inbound');
      if (first?.run_id != null) await ui.settle(first.run_id);

      const box = page.getByLabel('Message', { exact: true });
      await box.fill(HOSTILE);
      await page.getByRole('button', { name: 'Send' }).click();
      const mine = page
        .locator('[data-direction="inbound"]')
        .getByTestId('message-text')
        .filter({ hasText: 'window.__pwned = 1' });
      await mine.waitFor();
      expect(await mine.textContent()).toBe(HOSTILE);
      // The second run answers it too, unasked like the first; the reply joins live.
      await agentReplies().nth(1).waitFor({ timeout: RUN_TIMEOUT_MS });
      await page.reload();
      await messages().nth(3).waitFor();
      expect(await page.locator('.chat-messages img, .chat-messages script').count()).toBe(0);
      expect(await pwned()).toBeUndefined();
    },
    RUN_TIMEOUT_MS * 2,
  );
});
