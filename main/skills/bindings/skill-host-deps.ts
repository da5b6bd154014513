import type { ErrorCode } from '../../../contracts/errors.ts';
import type { PolicyDecision } from '../../../contracts/policy.ts';
import type { AuditEnvelope, EgressResult, EgressTarget } from '../../chain/egress-audit.ts';
import type { DecisionRequest } from '../../policy/decide.ts';
import type { BindingName, SkillCallContext } from '../sandbox/skill-sandbox.ts';

/** The skill a memory call is made for: its namespaces are its own, and writes name it. */
export type SkillRef = { skill_id: string; version: string };

/**
 * Storage behind `ccos.memory`. The bindings have already checked that the skill declared
 * `namespace`; the implementation keeps each skill's namespaces apart (two skills declaring
 * `notes` share nothing) and records the writer. Governance (labels, retention) is its too.
 */
export type SkillMemory = {
  /** Reads for the run `call` belongs to: items of another session's runs read as absent. */
  get: (
    owner: SkillRef,
    namespace: string,
    key: string,
    call: SkillCallContext,
  ) => Promise<unknown>;
  /**
   * Stores the value and records `audit` (its `memory.write`) in one transaction: a write
   * exists exactly when its chain entry does. A refused write (a secret) throws MEMORY_DENIED
   * with its `policy.decision` already committed.
   */
  put: (
    owner: SkillRef,
    namespace: string,
    key: string,
    value: unknown,
    audit: SkillAuditEvent,
  ) => Promise<void>;
};

/** Looks a secret up by name; the value goes into an outgoing header and nowhere else. */
export type SecretResolver = (name: string) => Promise<string | undefined>;

/**
 * One binding call, as the causal chain records it. Never holds secret values or bodies.
 * `http.fetch` also reports each request it sends: `phase: 'attempt'` before the request
 * leaves (awaited; if it cannot be recorded the request is not sent) and `phase: 'outcome'`
 * after; the event without a phase then closes the call.
 */
export type SkillAuditEvent = {
  skill_id: string;
  version: string;
  binding: BindingName;
  outcome: 'allowed' | 'denied' | 'failed';
  code?: ErrorCode;
  data: Record<string, unknown>;
  call: SkillCallContext;
  phase?: 'attempt' | 'outcome';
  /** With a phase: the request it is about, and (outcome) how it ended. */
  request?: EgressTarget;
  result?: EgressResult;
};

export type SkillLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A line a skill wrote with `ccos.log`; the receiver redacts it before it is stored. */
export type SkillLogEntry = { skill_id: string; level: SkillLogLevel; message: string };

/** What the bindings need from the host; `host.ts` wires these to the store, chain and logger. */
export type SkillHostDeps = {
  memory: SkillMemory;
  secrets: SecretResolver;
  log: (entry: SkillLogEntry) => void;
  /**
   * Records a binding call. Awaited: a binding whose audit cannot be written fails, and a
   * request whose attempt cannot be written is never sent.
   */
  audit: (event: SkillAuditEvent) => void | Promise<void>;
  /**
   * The pack rules of the call's run (its envelope names the pack version) on what a binding
   * is about to do: `host.ts` wires `decide` under the run's pack. Absent: no pack rules.
   */
  decide?: (envelope: AuditEnvelope, request: DecisionRequest) => PolicyDecision;
  /** Milliseconds since the epoch; tests pass a fixed clock. */
  now?: () => number;
  /** Tests and the desktop shell may pass their own fetch; defaults to the global one. */
  fetch?: typeof fetch;
};
