import type { ErrorCode } from '../../../contracts/errors.ts';
import type { BindingName } from '../sandbox/skill-sandbox.ts';

/** The skill a memory call is made for: its namespaces are its own, and writes name it. */
export type SkillRef = { skill_id: string; version: string };

/**
 * Storage behind `ccos.memory`. The bindings have already checked that the skill declared
 * `namespace`; the implementation keeps each skill's namespaces apart (two skills declaring
 * `notes` share nothing) and records the writer. Governance (labels, retention) is its too.
 */
export type SkillMemory = {
  get: (owner: SkillRef, namespace: string, key: string) => Promise<unknown>;
  put: (owner: SkillRef, namespace: string, key: string, value: unknown) => Promise<void>;
};

/** Looks a secret up by name; the value goes into an outgoing header and nowhere else. */
export type SecretResolver = (name: string) => Promise<string | undefined>;

/** One binding call, as the causal chain records it. Never holds secret values or bodies. */
export type SkillAuditEvent = {
  skill_id: string;
  version: string;
  binding: BindingName;
  outcome: 'allowed' | 'denied' | 'failed';
  code?: ErrorCode;
  data: Record<string, unknown>;
};

export type SkillLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A line a skill wrote with `ccos.log`; the receiver redacts it before it is stored. */
export type SkillLogEntry = { skill_id: string; level: SkillLogLevel; message: string };

/** What the bindings need from the host; `host.ts` wires these to the store, chain and logger. */
export type SkillHostDeps = {
  memory: SkillMemory;
  secrets: SecretResolver;
  log: (entry: SkillLogEntry) => void;
  audit: (event: SkillAuditEvent) => void;
  /** Milliseconds since the epoch; tests pass a fixed clock. */
  now?: () => number;
  /** Tests and the desktop shell may pass their own fetch; defaults to the global one. */
  fetch?: typeof fetch;
};
