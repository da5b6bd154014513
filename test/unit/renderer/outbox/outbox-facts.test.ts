import { describe, expect, it } from 'vitest';
import type { DeliveryAttempt, OutboxMessage } from '../../../../contracts/outbox.ts';
import {
  actionsFor,
  attemptText,
  countHeading,
  deadCountText,
  nextText,
  refusalText,
  retryInput,
  stateFromSearch,
  stateText,
  STATE_FILTERS,
  until,
} from '../../../../renderer/src/outbox/outbox-facts.ts';

const NOW = Date.parse('2026-12-04T12:00:00.000Z');

const message: OutboxMessage = {
  id: `obx_${'a'.repeat(32)}`,
  idempotency_key: 'ccos:abc12345',
  connector_id: 'hook',
  channel_id: 'ch-1',
  run_id: 'run_1',
  step_id: 'step_1',
  label: [],
  content_sha256: 'f'.repeat(64),
  state: 'queued',
  attempts: 0,
  max_attempts: 8,
  next_attempt_at: '2026-12-04T12:00:30.000Z',
  last_error_category: null,
  last_error: null,
  created_at: '2026-12-04T11:58:00.000Z',
  updated_at: '2026-12-04T11:59:00.000Z',
};

const attempt: DeliveryAttempt = {
  attempt: 1,
  started_at: '2026-12-04T11:58:01.000Z',
  ended_at: '2026-12-04T11:58:01.020Z',
  status: 400,
  latency_ms: 20,
  outcome: 'dead',
  category: 'invalid',
  message: 'the receiver answered 400',
};

describe("the Outbox page's facts", () => {
  it('names each state, the lease as “sending”, and offers every state as a filter', () => {
    expect(stateText('queued')).toBe('queued');
    expect(stateText('in_flight')).toBe('sending');
    expect(stateText('delivered')).toBe('delivered');
    expect(stateText('dead')).toBe('dead letter');
    expect(STATE_FILTERS).toEqual(['', 'queued', 'in_flight', 'delivered', 'dead']);
  });

  it('says what comes next: the next attempt, the one being sent, the delivery, or why it died', () => {
    expect(nextText(message, NOW)).toBe('next attempt in 30 s');
    expect(
      nextText(
        {
          ...message,
          attempts: 2,
          last_error_category: 'server',
          next_attempt_at: message.created_at,
        },
        NOW,
      ),
    ).toBe('next attempt now after server error at the receiver (retried)');
    expect(nextText({ ...message, state: 'in_flight', attempts: 3 }, NOW)).toBe(
      'attempt 3 of 8 being sent now',
    );
    expect(nextText({ ...message, state: 'delivered' }, NOW)).toBe('delivered 1 min ago');
    expect(nextText({ ...message, state: 'dead', last_error_category: 'auth' }, NOW)).toBe(
      'dead: refused as unauthorised (permanent)',
    );
    expect(nextText({ ...message, state: 'dead', last_error_category: 'lease_expired' }, NOW)).toBe(
      'dead: the host stopped during the last allowed attempt',
    );
    expect(nextText({ ...message, state: 'dead' }, NOW)).toBe('dead: no reason recorded');
    expect(until('2026-12-04T11:00:00.000Z', NOW)).toBe('now');
  });

  it('describes each attempt by the receiver’s answer and its outcome', () => {
    expect(attemptText(attempt)).toBe(
      'HTTP 400, refused by the receiver or by policy (permanent): dead letter',
    );
    expect(attemptText({ ...attempt, outcome: 'delivered', status: 200, category: null })).toBe(
      'HTTP 200: delivered',
    );
    expect(attemptText({ ...attempt, outcome: 'retry', status: null, category: 'network' })).toBe(
      'no answer, network error (retried): tried again later',
    );
    expect(attemptText({ ...attempt, outcome: 'retry', status: 503, category: null })).toBe(
      'HTTP 503: tried again later',
    );
    expect(attemptText({ ...attempt, outcome: 'in_flight', ended_at: null, status: null })).toBe(
      'in flight, or cut short when its host stopped',
    );
  });

  it('offers retry only for a dead letter and discard for a dead or queued one, never a leased one', () => {
    expect(actionsFor('dead')).toEqual({ retry: true, discard: true });
    expect(actionsFor('queued')).toEqual({ retry: false, discard: true });
    expect(actionsFor('in_flight')).toEqual({ retry: false, discard: false });
    expect(actionsFor('delivered')).toEqual({ retry: false, discard: false });
  });

  it('explains each refusal code of the admin actions, and leaves others to the message', () => {
    for (const code of [
      'OUTBOX_ALREADY_DELIVERED',
      'OUTBOX_NOT_DEAD',
      'OUTBOX_LEASED',
      'NOT_FOUND',
    ])
      expect(refusalText(code), code).toMatch(/\S/);
    expect(refusalText('OUTBOX_LEASED')).toMatch(/sending it right now/);
    expect(refusalText('INTERNAL')).toBeUndefined();
  });

  it('refuses a bad attempts value before sending, and leaves a blank one to the host', () => {
    expect(retryInput('')).toEqual({ ok: true, body: {} });
    expect(retryInput(' 3 ')).toEqual({ ok: true, body: { attempts: 3 } });
    for (const bad of ['0', '51', '2.5', '-1', 'three', '1e3'])
      expect(retryInput(bad), bad).toEqual({
        ok: false,
        message: 'attempts: a whole number, 1 to 50',
      });
  });

  it('reads the state filter from the address, ignoring anything that is not a state', () => {
    expect(stateFromSearch('?state=dead')).toBe('dead');
    expect(stateFromSearch('?state=in_flight&x=1')).toBe('in_flight');
    expect(stateFromSearch('?state=leased')).toBe('');
    expect(stateFromSearch('')).toBe('');
  });

  it('counts in words, and says when a full page of dead letters may hide more', () => {
    expect(countHeading(1, '')).toBe('1 message');
    expect(countHeading(4, '')).toBe('4 messages');
    expect(countHeading(1, 'dead')).toBe('1 dead letter');
    expect(countHeading(3, 'dead')).toBe('3 dead letters');
    expect(countHeading(2, 'in_flight')).toBe('2 messages being sent');
    expect(countHeading(1, 'queued')).toBe('1 queued message');
    expect(countHeading(0, 'delivered')).toBe('0 delivered messages');
    expect(deadCountText(3, false)).toBe('3');
    expect(deadCountText(100, true)).toBe('100+');
  });
});
