import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxList } from '../../../contracts/outbox.ts';
import type { OutboxReceiver } from '../../support/outbox-receiver.ts';
import type { GatewayTestHost } from '../gateway/helpers/gateway-host.ts';
import { runCli } from '../gateway/helpers/run-cli.ts';
import {
  deliverDue,
  queueOnHost,
  startDeadLetterHost,
  type DeadLetterHost,
} from './outbox-admin-host.ts';

/** `ccos outbox list|show|retry|discard|prune` against a real host, as a child process. */
describe('ccos outbox', () => {
  let gw: GatewayTestHost;
  let receiver: OutboxReceiver;
  let started: DeadLetterHost;
  const cli = (...args: string[]) => runCli(['--data-dir', gw.dataDir, ...args]);

  beforeAll(async () => {
    started = await startDeadLetterHost();
    ({ gw, receiver } = started);
  });
  afterAll(() => started.stop());

  it('lists and shows a dead letter, retries it to the receiver, discards and prunes, with clear errors', async () => {
    const message = await queueOnHost(gw, receiver.url, 'the deploy finished');
    await deliverDue(gw);

    const listed = await cli('outbox', 'list', '--state', 'dead', '--json');
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as OutboxList).messages.map((m) => m.id)).toEqual([
      message.id,
    ]);
    expect((await cli('outbox', 'list')).stdout).toMatch(
      new RegExp(`${message.id}\\s+dead\\s+hook\\s+ch-1\\s+1/1\\s+invalid`),
    );
    const shown = await cli('outbox', 'show', message.id);
    expect(shown.stdout).toContain('text      the deploy finished');
    expect(shown.stdout).toMatch(/1\s+\S+\s+dead\s+400/);

    const arrival = receiver.nextRequest();
    const retried = await cli('outbox', 'retry', message.id, '--attempts', '2');
    expect(retried.code).toBe(0);
    expect(retried.stdout).toContain(`queued ${message.id} again: up to 2 more attempts`);
    expect((await arrival).key).toBe(message.idempotency_key);
    await deliverDue(gw);

    const again = await cli('outbox', 'retry', message.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[OUTBOX_ALREADY_DELIVERED]');

    const queued = await queueOnHost(gw, receiver.url, 'scratch that');
    const discarded = await cli('outbox', 'discard', queued.id);
    expect(discarded.stdout).toContain(`discarded ${queued.id}`);
    expect((await cli('outbox', 'show', queued.id)).stderr).toContain('[NOT_FOUND]');

    const pruned = await cli('outbox', 'prune', '--older-than', '7d');
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toBe('deleted 0 messages\n');
    const badDuration = await cli('outbox', 'prune', '--older-than', '7w');
    expect(badDuration.code).toBe(2);
    expect(badDuration.stderr).toContain('--older-than takes a duration');
    expect((await cli('outbox', 'prune')).code).toBe(2);
    expect((await cli('outbox', 'list', '--state', 'lost')).code).toBe(2);
    expect((await cli('outbox', '--help')).stdout).toMatch(
      /list[\s\S]*show[\s\S]*retry[\s\S]*discard[\s\S]*prune/,
    );
    expect(
      (await gw.chain('outbox.admin')).map((e) => [e.data['action'], e.data['outcome']]),
    ).toEqual([
      ['retry', 'done'],
      ['retry', 'refused'],
      ['discard', 'done'],
      ['prune', 'done'],
    ]);
  });
});
