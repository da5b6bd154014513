import type { AuditEnvelope } from '../../chain/egress-audit.ts';

/**
 * The one seam between the registry and whatever runs skill code (ARCHITECTURE.md §7). The
 * isolated-vm implementation is the only one today; keeping the seam lets the host move
 * isolates into another process (see docs/skills-sandbox.md) without touching callers.
 */

/** Names of the host functions a skill can reach; the isolate has no other way out. */
export const BINDING_NAMES = ['http.fetch', 'memory.get', 'memory.put', 'log', 'now'] as const;
export type BindingName = (typeof BINDING_NAMES)[number];

/**
 * The operation call a binding call belongs to: which operation, and the audit envelope of
 * whoever asked for it (run, session, step), so every binding call is audited as part of it.
 * The sandbox hands it over only for binding calls made while that operation runs: calls
 * from code that outlived its operation are refused before they reach the handler.
 */
export type SkillCallContext = {
  operation_id: string;
  envelope: AuditEnvelope;
};

/**
 * Host side of the bindings: receives parsed JSON arguments, returns JSON data, throws an
 * `AppError` to refuse. `signal` aborts when the call it serves is cut short.
 */
export type SkillBindingHandler = (
  name: BindingName,
  args: unknown,
  signal: AbortSignal,
  call: SkillCallContext,
) => Promise<unknown>;

/** The code of one skill, ready to be run. */
export type SkillCode = {
  skillId: string;
  /** How errors name the entry file. */
  entryLabel: string;
  /** How errors name the manifest (for `operations[i].id` problems). */
  manifestLabel: string;
  /** An ES module with one named export per operation and no imports. */
  code: string;
  operationIds: readonly string[];
};

/** Resource limits for one loaded skill. */
export type SandboxLimits = {
  /** Isolate heap limit in MB (isolated-vm minimum is 8). */
  memoryLimitMb: number;
  /**
   * Wall-clock limit of one call, binding waits included, and whatever the skill's code keeps
   * doing after its operation returned.
   */
  callTimeoutMs: number;
  /** CPU time one call may use in its isolate (`isolate.cpuTime`), across binding waits. */
  maxCpuMs: number;
  /** Wall-clock limit of evaluating the entry module at load. */
  loadTimeoutMs: number;
  /** Largest JSON result (in UTF-16 code units) a call may return. */
  maxOutputChars: number;
  /** Largest JSON input (or binding argument) that crosses into or out of the isolate. */
  maxInputChars: number;
  /** Contexts (runs) one isolate keeps; the least recently used goes first. */
  maxContexts: number;
};

/** Safe defaults; policy may tighten or loosen them per gateway. */
export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
  memoryLimitMb: 64,
  callTimeoutMs: 10_000,
  maxCpuMs: 5_000,
  loadTimeoutMs: 2_000,
  maxOutputChars: 1024 * 1024,
  maxInputChars: 1024 * 1024,
  maxContexts: 16,
};

/** A loaded skill: calls are serialised; a failure that breaks the isolate recreates it on the next call. */
export type SandboxedSkill = {
  /**
   * Runs one operation; resolves to its JSON result or throws an `AppError` with a stable code.
   * `envelope` says for whom (default: no run). Its `run_id` picks the isolate context, so
   * module state is never shared across runs (issue 17 #32); calls of no run share one.
   */
  call: (operationId: string, input: unknown, envelope?: AuditEnvelope) => Promise<unknown>;
  /** Frees the isolate. Idempotent; later calls fail with SKILL_UNAVAILABLE. */
  dispose: () => void;
  readonly disposed: boolean;
};

/** Loads skill code into a sandbox; throws SKILL_INVALID when the code does not compile or lacks an operation. */
export type SkillSandbox = {
  load: (code: SkillCode, bindings: SkillBindingHandler) => Promise<SandboxedSkill>;
};
