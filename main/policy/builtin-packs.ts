import type { PolicyPack } from '../../contracts/policy.ts';
import { DEFAULT_POLICY_PACK } from './policy-packs.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Tighter than `default`: a person watches closely. Every skill operation that touches
 * anything asks first, budgets are small, a run gets no second try after a crash, and an
 * unanswered approval expires as a refusal after an hour. A standing grant lasts a day at most.
 */
export const STRICT_POLICY_PACK: PolicyPack = {
  ...DEFAULT_POLICY_PACK,
  id: 'strict',
  version: '1',
  description:
    'Asks before every memory read or write and every HTTP request; small budgets; no retries after a crash; approvals expire after an hour; standing grants last a day at most.',
  default_budget: {
    max_steps: 20,
    max_wall_clock_ms: 10 * 60 * 1000,
    max_tokens: 50_000,
    max_retries: 0,
  },
  segment_max_steps: 5,
  approval_capabilities: ['net.http', 'memory.write', 'memory.read'],
  autofill_sources: ['run.goal', 'run.id'],
  skill_document_origins: [],
  approval_timeout_ms: 60 * 60 * 1000,
  // --- standing approvals (issue 22) ---
  // A person watching closely re-decides daily: no grant outlives a day.
  grants_max_ms: 24 * 60 * 60 * 1000,
  // Personal data never leaves this machine, not even redacted with an approval.
  egress_exceptions: [],
  rules: [
    {
      rule_id: 'egress.no_plain_http',
      effect: 'deny',
      match: { origin: 'http://*' },
      reason: 'plain HTTP can be read and changed on the way',
    },
  ],
  // No inbound message wakes an agent: a deployment lists its own triggers and senders.
  activation_rules: [],
  retention: {
    quarantine_ttl_ms: DAY_MS,
    memory_default_expiry_ms: 7 * DAY_MS,
    payload_retention_ms: 7 * DAY_MS,
  },
};

/**
 * For a developer trying skills on their own machine: larger budgets and only HTTP asks
 * first. Memory writes go through without a click; never use it for runs that read other
 * people's data.
 */
export const LOCAL_DEV_POLICY_PACK: PolicyPack = {
  ...DEFAULT_POLICY_PACK,
  id: 'local-dev',
  version: '1',
  description:
    'For trying skills on your own machine: larger budgets, only HTTP requests ask first. Not for runs that read other people’s data.',
  default_budget: {
    max_steps: 200,
    max_wall_clock_ms: 2 * 60 * 60 * 1000,
    max_tokens: 1_000_000,
    max_retries: 3,
  },
  approval_capabilities: ['net.http'],
  retention: {
    quarantine_ttl_ms: 30 * DAY_MS,
    memory_default_expiry_ms: 365 * DAY_MS,
    payload_retention_ms: 90 * DAY_MS,
  },
};

/** The packs every host has, whatever its policy folders hold. */
export const BUILTIN_POLICY_PACKS: readonly PolicyPack[] = [
  DEFAULT_POLICY_PACK,
  STRICT_POLICY_PACK,
  LOCAL_DEV_POLICY_PACK,
];
