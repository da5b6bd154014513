import type { Kysely } from 'kysely';
import * as m0001 from './0001-core-tables.ts';
import * as m0002 from './0002-idempotency-keys.ts';
import * as m0003 from './0003-skills.ts';
import * as m0004 from './0004-memory-and-secrets.ts';
import * as m0005 from './0005-approval-matching.ts';
import * as m0006 from './0006-budget-grants.ts';
import * as m0007 from './0007-skill-onboarding.ts';
import * as m0008 from './0008-run-events.ts';
import * as m0010 from './0010-skill-memory-scope.ts';
import * as m0011 from './0011-onboarding-call-started.ts';
import * as m0020 from './0020-payloads.ts';
import * as m0030 from './0030-session-owner.ts';
import * as m0031 from './0031-connector-records.ts';
import * as m0040 from './0040-schedules.ts';
import * as m0050 from './0050-run-not-before.ts';
import * as m0051 from './0051-approval-expiry.ts';
import * as m0052 from './0052-host-settings.ts';
import * as m0060 from './0060-run-driver.ts';
import * as m0070 from './0070-run-notes.ts';
import * as m0090 from './0090-skill-load-errors.ts';
import * as m0100 from './0100-policy-pack-versions.ts';
import * as m0110 from './0110-governed-memory.ts';
import * as m0120 from './0120-quarantine.ts';
import * as m0130 from './0130-grants.ts';
import * as m0140 from './0140-value-labels.ts';
// --- inbound connectors (issue 23) ---
import * as m0150 from './0150-connector-inbound.ts';
// --- outbox (issue 23) ---
import * as m0160 from './0160-outbox.ts';
import * as m0170 from './0170-quarantine-taint.ts';

export type Migration = {
  /** Zero-padded number and kebab name, e.g. `0001-core-tables`. Append-only once landed. */
  name: string;
  up: (db: Kysely<unknown>) => Promise<void>;
};

/**
 * Registered statically (not read from a folder at run time) so a packaged app finds them.
 * Order is the array's order; names must increase (gaps are allowed: work done in parallel
 * reserves number ranges).
 */
export const MIGRATIONS: readonly Migration[] = [
  { name: '0001-core-tables', up: m0001.up },
  { name: '0002-idempotency-keys', up: m0002.up },
  { name: '0003-skills', up: m0003.up },
  { name: '0004-memory-and-secrets', up: m0004.up },
  { name: '0005-approval-matching', up: m0005.up },
  { name: '0006-budget-grants', up: m0006.up },
  { name: '0007-skill-onboarding', up: m0007.up },
  { name: '0008-run-events', up: m0008.up },
  { name: '0010-skill-memory-scope', up: m0010.up },
  { name: '0011-onboarding-call-started', up: m0011.up },
  { name: '0020-payloads', up: m0020.up },
  { name: '0030-session-owner', up: m0030.up },
  { name: '0031-connector-records', up: m0031.up },
  { name: '0040-schedules', up: m0040.up },
  { name: '0050-run-not-before', up: m0050.up },
  { name: '0051-approval-expiry', up: m0051.up },
  { name: '0052-host-settings', up: m0052.up },
  { name: '0060-run-driver', up: m0060.up },
  { name: '0070-run-notes', up: m0070.up },
  { name: '0090-skill-load-errors', up: m0090.up },
  { name: '0100-policy-pack-versions', up: m0100.up },
  { name: '0110-governed-memory', up: m0110.up },
  { name: '0120-quarantine', up: m0120.up },
  { name: '0130-grants', up: m0130.up },
  { name: '0140-value-labels', up: m0140.up },
  // --- inbound connectors (issue 23) ---
  { name: '0150-connector-inbound', up: m0150.up },
  // --- outbox (issue 23) ---
  { name: '0160-outbox', up: m0160.up },
  // --- a local chat message's taint (issue 23) ---
  { name: '0170-quarantine-taint', up: m0170.up },
];
