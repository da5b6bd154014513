import {
  outboxRetryInputSchema,
  outboxStateSchema,
  type DeliveryAttempt,
  type DeliveryErrorCategory,
  type OutboxMessage,
  type OutboxRetryInput,
  type OutboxState,
} from '../../../contracts/outbox.ts';
import { age, duration } from '../ui/format.ts';

/** A state as the badge says it: `in_flight` is a host holding the row's lease. */
const STATE_TEXT: Record<OutboxState, string> = {
  queued: 'queued',
  in_flight: 'sending',
  delivered: 'delivered',
  dead: 'dead letter',
};

export function stateText(state: OutboxState): string {
  return STATE_TEXT[state];
}

/** The list's heading: how many messages it shows, in the filter's words. */
export function countHeading(count: number, state: OutboxState | ''): string {
  const many = count !== 1;
  switch (state) {
    case '':
      return `${count} ${many ? 'messages' : 'message'}`;
    case 'dead':
      return `${count} dead ${many ? 'letters' : 'letter'}`;
    case 'in_flight':
      return `${count} ${many ? 'messages' : 'message'} being sent`;
    case 'queued':
    case 'delivered':
      return `${count} ${state} ${many ? 'messages' : 'message'}`;
  }
}

/** The list's state filters in the order the page shows them; '' is every state. */
export const STATE_FILTERS: readonly (OutboxState | '')[] = ['', ...outboxStateSchema.options];

/** Why an attempt failed, in plain words, and whether the dispatcher tries again by itself. */
const CATEGORY_TEXT: Record<DeliveryErrorCategory, string> = {
  network: 'network error (retried)',
  timeout: 'no answer in time (retried)',
  rate_limit: 'rate limited by the receiver (retried after its wait)',
  server: 'server error at the receiver (retried)',
  auth: 'refused as unauthorised (permanent)',
  invalid: 'refused by the receiver or by policy (permanent)',
  lease_expired: 'the host stopped during the last allowed attempt',
};

export function categoryText(category: DeliveryErrorCategory): string {
  return CATEGORY_TEXT[category];
}

/** "in 3 s", "now" (or overdue) until an ISO instant. */
export function until(iso: string, now: number): string {
  const ms = Date.parse(iso) - now;
  return ms <= 0 ? 'now' : `in ${duration(ms)}`;
}

/**
 * What comes next for a message, in one line: when it is tried again, that it is being sent,
 * when it was delivered, or why it is dead.
 */
export function nextText(message: OutboxMessage, now: number): string {
  const lastError =
    message.last_error_category === null
      ? ''
      : ` after ${categoryText(message.last_error_category)}`;
  switch (message.state) {
    case 'queued':
      return `next attempt ${until(message.next_attempt_at, now)}${lastError}`;
    case 'in_flight':
      return `attempt ${message.attempts} of ${message.max_attempts} being sent now`;
    case 'delivered':
      return `delivered ${age(message.updated_at, now)}`;
    case 'dead':
      return message.last_error_category === null
        ? 'dead: no reason recorded'
        : `dead: ${categoryText(message.last_error_category)}`;
  }
}

/** One attempt's result in words: the receiver's status and why it failed, if it did. */
export function attemptText(attempt: DeliveryAttempt): string {
  const status = attempt.status === null ? 'no answer' : `HTTP ${attempt.status}`;
  switch (attempt.outcome) {
    case 'delivered':
      return `${status}: delivered`;
    case 'in_flight':
      return attempt.ended_at === null
        ? 'in flight, or cut short when its host stopped'
        : `${status}: unsettled`;
    case 'retry':
    case 'dead': {
      const why =
        attempt.category === null ? status : `${status}, ${categoryText(attempt.category)}`;
      return attempt.outcome === 'dead' ? `${why}: dead letter` : `${why}: tried again later`;
    }
  }
}

/** What the person may do with a message in this state (the host refuses the rest). */
export function actionsFor(state: OutboxState): { retry: boolean; discard: boolean } {
  return { retry: state === 'dead', discard: state === 'dead' || state === 'queued' };
}

/**
 * What the host's refusal of an action means, by its stable code: the view was older than the
 * message (another person, the CLI or the dispatcher moved it meanwhile).
 */
const REFUSAL_TEXT: Partial<Record<string, string>> = {
  OUTBOX_ALREADY_DELIVERED: 'It was delivered meanwhile: there is nothing to retry or discard.',
  OUTBOX_NOT_DEAD: 'It is back in the queue already (retried elsewhere): wait for its attempt.',
  OUTBOX_LEASED:
    'A host is sending it right now. Discard it once this attempt ends, if it is still there.',
  NOT_FOUND: 'It was discarded or pruned meanwhile.',
};

export function refusalText(code: string): string | undefined {
  return REFUSAL_TEXT[code];
}

/** The dead-letter count for the navigation badge: a full page of them may hide more. */
export function deadCountText(count: number, more: boolean): string {
  return more ? `${count}+` : String(count);
}

/**
 * The retry's body from the attempts field: blank is the host's default; anything else must be
 * what the contract takes, checked here so a typo is named before anything is sent.
 */
export function retryInput(
  attempts: string,
): { ok: true; body: OutboxRetryInput } | { ok: false; message: string } {
  const text = attempts.trim();
  if (text === '') return { ok: true, body: {} };
  if (!/^\d+$/.test(text)) return { ok: false, message: 'attempts: a whole number, 1 to 50' };
  const parsed = outboxRetryInputSchema.safeParse({ attempts: Number(text) });
  return parsed.success
    ? { ok: true, body: parsed.data }
    : { ok: false, message: 'attempts: a whole number, 1 to 50' };
}

/** The state an address names (`/outbox?state=dead`), or '' for every state. */
export function stateFromSearch(search: string): OutboxState | '' {
  const parsed = outboxStateSchema.safeParse(new URLSearchParams(search).get('state'));
  return parsed.success ? parsed.data : '';
}
