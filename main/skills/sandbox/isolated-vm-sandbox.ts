import ivm from 'isolated-vm';
import { z } from 'zod';
import type { ErrorCode } from '../../../contracts/errors.ts';
import { NO_RUN_ENVELOPE, type AuditEnvelope } from '../../chain/egress-audit.ts';
import { AppError, isAppError } from '../../errors.ts';
import { ISOLATE_BOOTSTRAP } from './isolate-bootstrap.ts';
import { skillInvalid } from '../manifest/skill-invalid.ts';
import {
  BINDING_NAMES,
  DEFAULT_SANDBOX_LIMITS,
  type BindingName,
  type SandboxedSkill,
  type SandboxLimits,
  type SkillBindingHandler,
  type SkillCallContext,
  type SkillCode,
  type SkillSandbox,
} from './skill-sandbox.ts';

/** Options of the isolated-vm sandbox. */
export type IsolatedVmSandboxOptions = {
  limits?: Partial<SandboxLimits>;
  /**
   * V8 lost control of an isolate (isolated-vm `onCatastrophicError`). The host should stop
   * taking work and exit; the sandbox only reports it.
   */
  onCatastrophicError?: (skillId: string, message: string) => void;
};

/** Codes the in-isolate dispatcher may report on its own; anything else it claims is not believed. */
const DISPATCHER_CODES = new Set<ErrorCode>([
  'SKILL_ERROR',
  'SKILL_BAD_OUTPUT',
  'SKILL_OUTPUT_TOO_LARGE',
]);

/** The envelope a call returns from the isolate, checked as untrusted data. */
const envelopeSchema = z.union([
  z.strictObject({ ok: z.literal(true), value: z.unknown() }),
  z.strictObject({
    ok: z.literal(false),
    error: z.strictObject({
      code: z.string(),
      message: z.string(),
      claimed: z.string().optional(),
    }),
  }),
]);

const MAX_ERROR_MESSAGE = 1000;
const BINDING_SET: ReadonlySet<string> = new Set(BINDING_NAMES);

/** One live isolate with the handles a call needs. */
type Instance = {
  isolate: ivm.Isolate;
  context: ivm.Context;
  dispatch: ivm.Reference;
  release: () => void;
  /**
   * Set when the host disposes the isolate. An isolate found disposed without it was disposed
   * by isolated-vm itself, which it does only for the memory limit (catastrophic errors are
   * reported through `onCatastrophicError`).
   */
  killedByHost: boolean;
};

const MIB = 1024 * 1024;

/** Runs each skill in its own isolated-vm isolate (ARCHITECTURE.md §7, docs/skills-sandbox.md). */
export class IsolatedVmSandbox implements SkillSandbox {
  readonly #limits: SandboxLimits;
  readonly #onCatastrophicError: ((skillId: string, message: string) => void) | undefined;

  constructor(options: IsolatedVmSandboxOptions = {}) {
    this.#limits = { ...DEFAULT_SANDBOX_LIMITS, ...options.limits };
    this.#onCatastrophicError = options.onCatastrophicError;
  }

  async load(code: SkillCode, bindings: SkillBindingHandler): Promise<SandboxedSkill> {
    const skill = new IsolatedSkill(code, bindings, this.#limits, this.#onCatastrophicError);
    await skill.start();
    return skill;
  }
}

/**
 * State of the call in flight: what the host issued, so the isolate cannot forge codes, and
 * whom the call serves, so its binding calls are audited as part of it.
 */
type CallState = { issued: Set<string>; abort: AbortController; call: SkillCallContext };

class IsolatedSkill implements SandboxedSkill {
  readonly #code: SkillCode;
  readonly #bindings: SkillBindingHandler;
  readonly #limits: SandboxLimits;
  readonly #onCatastrophicError: ((skillId: string, message: string) => void) | undefined;
  #instance: Instance | undefined;
  #disposed = false;
  #current: CallState | undefined;
  /** Calls run one at a time: a timeout then disposes only the call that caused it. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    code: SkillCode,
    bindings: SkillBindingHandler,
    limits: SandboxLimits,
    onCatastrophicError: IsolatedVmSandboxOptions['onCatastrophicError'],
  ) {
    this.#code = code;
    this.#bindings = bindings;
    this.#limits = limits;
    this.#onCatastrophicError = onCatastrophicError;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** First instantiation: any failure is the skill's fault, reported as SKILL_INVALID. */
  async start(): Promise<void> {
    this.#instance = await this.#instantiate();
  }

  call(
    operationId: string,
    input: unknown,
    envelope: AuditEnvelope = NO_RUN_ENVELOPE,
  ): Promise<unknown> {
    const run = this.#queue.then(() =>
      this.#run(operationId, input, { operation_id: operationId, envelope }),
    );
    this.#queue = run.catch(() => undefined);
    return run;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#current?.abort.abort();
    this.#teardown();
  }

  async #run(operationId: string, input: unknown, call: SkillCallContext): Promise<unknown> {
    if (this.#disposed)
      throw new AppError('SKILL_UNAVAILABLE', `skill ${this.#code.skillId} has been unloaded`);
    if (!this.#code.operationIds.includes(operationId)) {
      throw new AppError(
        'NOT_FOUND',
        `skill ${this.#code.skillId} has no operation "${operationId}"`,
      );
    }
    const inputJson = JSON.stringify(input ?? null);
    if (inputJson.length > this.#limits.maxInputChars) {
      throw new AppError(
        'PAYLOAD_TOO_LARGE',
        `input of ${this.#code.skillId}.${operationId} is over ${this.#limits.maxInputChars} characters`,
      );
    }
    if (this.#instance === undefined) {
      try {
        this.#instance = await this.#instantiate();
      } catch (e) {
        throw new AppError(
          'SKILL_UNAVAILABLE',
          `skill ${this.#code.skillId} could not be restarted: ${messageOf(e)}`,
        );
      }
    }
    const instance = this.#instance;
    const where = `${this.#code.skillId}.${operationId}`;
    // Memory the skill kept across calls can push the isolate over its limit after a call
    // returned (at the next GC); isolated-vm then disposes it on its own (issue 17 #27).
    if (instance.isolate.isDisposed)
      throw this.#lostToMemory(instance, where, 'after its last call');
    const state: CallState = { issued: new Set(), abort: new AbortController(), call };
    this.#current = state;
    let timedOut = false;
    // The isolate's own `timeout` covers only synchronous execution; code that resumes after an
    // awaited binding is bounded by this wall-clock deadline, which disposes the isolate.
    const deadline = setTimeout(() => {
      timedOut = true;
      state.abort.abort();
      this.#teardown();
    }, this.#limits.callTimeoutMs);
    let reply: unknown;
    try {
      reply = await instance.dispatch.apply(undefined, [operationId, inputJson], {
        timeout: this.#limits.callTimeoutMs,
        arguments: { copy: true },
        result: { promise: true, copy: true },
      });
    } catch (e) {
      throw this.#broken(instance, e, timedOut, operationId);
    } finally {
      clearTimeout(deadline);
      this.#current = undefined;
    }
    this.#checkHeap(instance, where);
    return this.#decode(reply, state, operationId);
  }

  /**
   * After each call: an isolate holding more than its limit is stopped now, and this call
   * reports it, rather than leaving a later call to find the isolate gone. isolated-vm's limit
   * has not always been enforced (laverdet/isolated-vm #460); `heap_size_limit` is V8's own
   * ceiling, which garbage alone never passes.
   */
  #checkHeap(instance: Instance, where: string): void {
    if (instance.isolate.isDisposed) throw this.#lostToMemory(instance, where, 'as its call ended');
    let heap: ivm.HeapStatistics;
    try {
      heap = instance.isolate.getHeapStatisticsSync();
    } catch {
      // Disposed by the limit between the check above and this read.
      throw this.#lostToMemory(instance, where, 'as its call ended');
    }
    const ceiling = Math.max(heap.heap_size_limit, this.#limits.memoryLimitMb * MIB);
    if (heap.used_heap_size + heap.externally_allocated_size > ceiling) {
      this.#teardown();
      throw new AppError(
        'SKILL_MEMORY',
        `${where} kept ${Math.round((heap.used_heap_size + heap.externally_allocated_size) / MIB)} MB, over the ${this.#limits.memoryLimitMb} MB memory limit; its isolate was restarted (module state is lost)`,
      );
    }
  }

  /** The isolate was disposed by isolated-vm's memory limit outside a call's execution. */
  #lostToMemory(instance: Instance, where: string, when: string): AppError {
    if (this.#instance === instance) this.#teardown();
    return new AppError(
      'SKILL_MEMORY',
      `${where}: the skill's isolate went over the ${this.#limits.memoryLimitMb} MB memory limit ${when} (memory kept across calls) and was restarted; module state is lost`,
    );
  }

  /** Maps a failed apply to a stable code and makes sure the next call gets a fresh isolate. */
  #broken(instance: Instance, e: unknown, timedOut: boolean, operationId: string): AppError {
    const message = messageOf(e);
    // "Isolate is disposed" without a host kill is the memory limit too, reached between the
    // check before the call and the call itself.
    const outOfMemory =
      instance.isolate.isDisposed && (/memory limit/i.test(message) || !instance.killedByHost);
    const where = `${this.#code.skillId}.${operationId}`;
    let error: AppError;
    if (timedOut || /timed out/i.test(message)) {
      error = new AppError(
        'SKILL_TIMEOUT',
        `${where} ran longer than ${this.#limits.callTimeoutMs} ms and was stopped`,
      );
    } else if (outOfMemory) {
      error = new AppError(
        'SKILL_MEMORY',
        `${where} exceeded the ${this.#limits.memoryLimitMb} MB memory limit and was stopped`,
      );
    } else if (this.#disposed) {
      error = new AppError(
        'SKILL_UNAVAILABLE',
        `${where} was stopped because the skill was unloaded`,
      );
    } else {
      error = new AppError(
        'SKILL_UNAVAILABLE',
        `${where} failed inside the sandbox: ${truncate(message)}`,
      );
    }
    // Whatever state the module was left in is not trusted for the next call.
    if (this.#instance === instance) this.#teardown();
    return error;
  }

  #decode(reply: unknown, state: CallState, operationId: string): unknown {
    const where = `${this.#code.skillId}.${operationId}`;
    if (typeof reply !== 'string')
      throw new AppError('SKILL_BAD_OUTPUT', `${where} returned no result envelope`);
    // The dispatcher already enforces the limit; this guards against a tampered dispatcher.
    if (reply.length > this.#limits.maxOutputChars + 4096) {
      throw new AppError(
        'SKILL_OUTPUT_TOO_LARGE',
        `${where} returned more than ${this.#limits.maxOutputChars} characters`,
      );
    }
    let envelope: z.infer<typeof envelopeSchema>;
    try {
      envelope = envelopeSchema.parse(JSON.parse(reply));
    } catch {
      throw new AppError('SKILL_BAD_OUTPUT', `${where} returned a malformed result envelope`);
    }
    if (envelope.ok) return envelope.value;
    const { code, message, claimed } = envelope.error;
    // A skill may rethrow a binding's refusal; that code is believed only if the host issued it.
    if (claimed !== undefined && state.issued.has(claimed)) {
      throw new AppError(claimed as ErrorCode, truncate(message));
    }
    const stable: ErrorCode = DISPATCHER_CODES.has(code as ErrorCode)
      ? (code as ErrorCode)
      : 'SKILL_ERROR';
    throw new AppError(stable, `${where} failed: ${truncate(message)}`);
  }

  /** Builds a fresh isolate with bindings and the skill's module. Leaves nothing behind on failure. */
  async #instantiate(): Promise<Instance> {
    const code = this.#code;
    const isolate = new ivm.Isolate({
      memoryLimit: this.#limits.memoryLimitMb,
      onCatastrophicError: (message) => this.#onCatastrophicError?.(code.skillId, message),
    });
    const handles: { release: () => void }[] = [];
    const release = (): void => {
      for (const h of handles.reverse()) {
        try {
          h.release();
        } catch {
          // Already released with its isolate; nothing left to free.
        }
      }
      handles.length = 0;
    };
    const kill = (): void => {
      release();
      safeDispose(isolate);
    };
    const loadDeadline = setTimeout(kill, this.#limits.loadTimeoutMs);
    try {
      const context = await isolate.createContext();
      handles.push(context);
      const hostRef = new ivm.Reference(this.#hostFunction());
      handles.push(hostRef);
      const pair: ivm.Reference = await context.evalClosure(
        ISOLATE_BOOTSTRAP,
        [hostRef, this.#limits.maxOutputChars],
        { result: { reference: true } },
      );
      handles.push(pair);
      const dispatch: ivm.Reference = await pair.get(0, { reference: true });
      const install: ivm.Reference = await pair.get(1, { reference: true });
      handles.push(dispatch, install);

      let module: ivm.Module;
      try {
        module = await isolate.compileModule(code.code, {
          filename: `file:///skills/${code.skillId}/entry.js`,
        });
      } catch (e) {
        throw skillInvalid(
          code.entryLabel,
          'entry',
          `does not compile: ${truncate(messageOf(e))}`,
          'fix the syntax error; the entry must be an ES module',
        );
      }
      handles.push(module);
      if (module.dependencySpecifiers.length > 0) {
        throw skillInvalid(
          code.entryLabel,
          'entry',
          `imports ${module.dependencySpecifiers.map((s) => `"${s}"`).join(', ')}`,
          'bundle everything into the one entry file; skills cannot import modules',
        );
      }
      try {
        await module.instantiate(context, () => {
          throw new Error('imports are not available to skills');
        });
        await module.evaluate({ timeout: this.#limits.loadTimeoutMs });
      } catch (e) {
        const reason = isolate.isDisposed
          ? 'ran out of time or memory while loading'
          : `threw while loading: ${truncate(messageOf(e))}`;
        throw skillInvalid(
          code.entryLabel,
          'entry',
          reason,
          'keep top-level code short; do work inside operations',
        );
      }
      const kindsJson: unknown = await install.apply(undefined, [module.namespace.derefInto()], {
        timeout: this.#limits.loadTimeoutMs,
      });
      const kinds =
        typeof kindsJson === 'string' ? (JSON.parse(kindsJson) as Record<string, unknown>) : {};
      code.operationIds.forEach((id, i) => {
        if (kinds[id] !== 'function') {
          throw skillInvalid(
            code.manifestLabel,
            `operations[${i}].id`,
            `declares "${id}", but ${code.entryLabel} does not export a function by that name`,
            `add \`export async function ${id}(input) { … }\` to the entry file`,
          );
        }
      });
      return { isolate, context, dispatch, release, killedByHost: false };
    } catch (e) {
      kill();
      if (isAppError(e, 'SKILL_INVALID')) throw e;
      const reason = isolate.isDisposed
        ? 'ran out of time or memory while loading'
        : truncate(messageOf(e));
      throw skillInvalid(
        code.entryLabel,
        'entry',
        `could not be loaded: ${reason}`,
        'keep top-level code short and within the memory limit',
      );
    } finally {
      clearTimeout(loadDeadline);
    }
  }

  /** The single host function the isolate holds a reference to; it never throws into the isolate. */
  #hostFunction(): (name: unknown, argsJson: unknown) => Promise<string> {
    return async (name, argsJson) => {
      const state = this.#current;
      const refuse = (code: ErrorCode, message: string): string => {
        state?.issued.add(code);
        return JSON.stringify({ ok: false, error: { code, message } });
      };
      if (state === undefined || this.#disposed)
        return refuse('SKILL_UNAVAILABLE', 'bindings are only available during an operation call');
      if (typeof name !== 'string' || !BINDING_SET.has(name))
        return refuse('SKILL_PERMISSION_DENIED', 'unknown binding');
      if (typeof argsJson !== 'string' || argsJson.length > this.#limits.maxInputChars) {
        return refuse(
          'PAYLOAD_TOO_LARGE',
          `binding arguments are over ${this.#limits.maxInputChars} characters`,
        );
      }
      try {
        const value = await this.#bindings(
          name as BindingName,
          JSON.parse(argsJson),
          state.abort.signal,
          state.call,
        );
        return JSON.stringify({ ok: true, value: value ?? null });
      } catch (e) {
        if (isAppError(e)) return refuse(e.code, e.message);
        // Host-side failures are not described to untrusted code.
        return refuse('INTERNAL', `binding ${name} failed`);
      }
    };
  }

  #teardown(): void {
    const instance = this.#instance;
    this.#instance = undefined;
    if (instance === undefined) return;
    instance.killedByHost = true;
    instance.release();
    safeDispose(instance.isolate);
  }
}

/**
 * Disposes an isolate once. Touching a disposed isolate can abort the process (observed in a
 * probe), so every path checks `isDisposed` first and swallows the "already disposed" race.
 */
function safeDispose(isolate: ivm.Isolate): void {
  if (isolate.isDisposed) return;
  try {
    isolate.dispose();
  } catch {
    // Disposed concurrently (memory limit or termination): the goal is reached either way.
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function truncate(s: string): string {
  return s.length > MAX_ERROR_MESSAGE ? `${s.slice(0, MAX_ERROR_MESSAGE)}…` : s;
}
