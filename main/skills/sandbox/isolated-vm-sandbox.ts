import { randomBytes } from 'node:crypto';
import type ivm from 'isolated-vm';
import { z } from 'zod';
import type { ErrorCode } from '../../../contracts/errors.ts';
import { NO_RUN_ENVELOPE, type AuditEnvelope } from '../../chain/egress-audit.ts';
import { AppError, isAppError } from '../../errors.ts';
import { RETURNED_SIGNAL } from './isolate-bootstrap.ts';
import {
  createContext,
  createInstance,
  disposeInstance,
  messageOf,
  truncate,
  type HostFunction,
  type Instance,
  type SkillContext,
} from './skill-instance.ts';
import {
  BINDING_NAMES,
  DEFAULT_SANDBOX_LIMITS,
  type BindingName,
  type SandboxedSkill,
  type SandboxLimits,
  type SkillBindingHandler,
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

const BINDING_SET: ReadonlySet<string> = new Set(BINDING_NAMES);
/** The context of calls for no run: the host's own (onboarding) and direct callers. */
const HOST_AUDIENCE = '';
/** An isolate is replaced after creating this many times `maxContexts` contexts. */
const CONTEXT_TURNOVER = 4;
const MIB = 1024 * 1024;
const NS_PER_MS = 1_000_000n;

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

/** The call in flight: what the host issued (so the isolate cannot forge codes) and what it did. */
type CallState = {
  /** Sent into the isolate with the call; a binding call carrying another one is stale. */
  nonce: string;
  operationId: string;
  /** Whom the call serves, so its binding calls are audited as part of it. */
  envelope: AuditEnvelope;
  issued: Set<string>;
  abort: AbortController;
  /** Binding calls of this operation the host is still serving. */
  outstanding: number;
  /** The operation's result has arrived; its code should have stopped. */
  returned: boolean;
  /** Code ran (and called a binding) after the operation returned. */
  stray: boolean;
  /** `isolate.cpuTime` when the call started. */
  cpuStart: bigint;
  cpuExceeded: boolean;
};

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
    this.#instance = await this.#instantiate(HOST_AUDIENCE);
  }

  call(
    operationId: string,
    input: unknown,
    envelope: AuditEnvelope = NO_RUN_ENVELOPE,
  ): Promise<unknown> {
    const run = this.#queue.then(() => this.#run(operationId, input, envelope));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#current?.abort.abort();
    this.#teardown();
  }

  #instantiate(audience: string): Promise<Instance> {
    return createInstance(
      this.#code,
      this.#limits,
      this.#hostFunction(),
      this.#onCatastrophicError,
      audience,
    );
  }

  /** A fresh isolate with a context for `audience`; failing is SKILL_UNAVAILABLE. */
  async #restart(audience: string): Promise<Instance> {
    try {
      this.#instance = await this.#instantiate(audience);
      return this.#instance;
    } catch (e) {
      throw new AppError(
        'SKILL_UNAVAILABLE',
        `skill ${this.#code.skillId} could not be restarted: ${messageOf(e)}`,
      );
    }
  }

  /**
   * The live isolate and its context for `audience`, created on first use. Contexts are kept
   * least recently used first; past `maxContexts` the oldest goes, and with it that
   * audience's module state (skills cannot count on module state anyway: isolates restart).
   */
  async #contextFor(
    audience: string,
    where: string,
  ): Promise<{ instance: Instance; context: SkillContext }> {
    let instance = this.#instance;
    // Memory the skill kept across calls can push the isolate over its limit after a call
    // returned (at the next GC); isolated-vm then disposes it on its own (issue 17 #27).
    if (instance?.isolate.isDisposed === true)
      throw this.#lostToMemory(instance, where, 'after its last call');
    // V8 frees a released context only after several collections, and isolated-vm counts
    // that garbage against the limit: an isolate that made many contexts is replaced whole.
    if (
      instance !== undefined &&
      !instance.contexts.has(audience) &&
      instance.created >= this.#limits.maxContexts * CONTEXT_TURNOVER
    ) {
      this.#retire(instance);
      instance = undefined;
    }
    instance ??= await this.#restart(audience);
    const known = instance.contexts.get(audience);
    if (known !== undefined) {
      instance.contexts.delete(audience);
      instance.contexts.set(audience, known);
      return { instance, context: known };
    }
    for (const [oldest, context] of instance.contexts) {
      if (instance.contexts.size < this.#limits.maxContexts) break;
      instance.contexts.delete(oldest);
      context.release();
    }
    try {
      const context = await createContext(
        instance.isolate,
        this.#code,
        this.#limits,
        this.#hostFunction(),
      );
      instance.created += 1;
      instance.contexts.set(audience, context);
      return { instance, context };
    } catch (e) {
      const outOfMemory = instance.isolate.isDisposed && !instance.killedByHost;
      this.#retire(instance);
      // The other audiences' garbage filled the isolate: this audience starts a fresh one.
      if (outOfMemory) {
        const fresh = await this.#restart(audience);
        const context = fresh.contexts.get(audience);
        if (context !== undefined) return { instance: fresh, context };
      }
      throw new AppError(
        'SKILL_UNAVAILABLE',
        `skill ${this.#code.skillId} could not start a fresh context for this run: ${messageOf(e)}`,
      );
    }
  }

  async #run(operationId: string, input: unknown, envelope: AuditEnvelope): Promise<unknown> {
    // A context per run: module state a skill keeps never crosses runs (issue 17 #32).
    const audience = envelope.run_id ?? HOST_AUDIENCE;
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
    const where = `${this.#code.skillId}.${operationId}`;
    const { instance, context } = await this.#contextFor(audience, where);
    const state: CallState = {
      nonce: randomBytes(16).toString('hex'),
      operationId,
      envelope,
      issued: new Set(),
      abort: new AbortController(),
      outstanding: 0,
      returned: false,
      stray: false,
      cpuStart: instance.isolate.cpuTime,
      cpuExceeded: false,
    };
    this.#current = state;
    let timedOut = false;
    // The isolate's own `timeout` covers only synchronous execution; code that resumes after an
    // awaited binding, or keeps running after the operation returned, is bounded by this
    // wall-clock deadline, which disposes the isolate.
    let stopping: NodeJS.Immediate | undefined;
    const deadline = setTimeout(() => {
      // The isolate's "returned" signal may already wait in this event loop behind the timer
      // (on a busy machine the host reads it late); one turn lets it land, so the error says
      // the code ran on after returning rather than a plain timeout.
      stopping = setImmediate(() => {
        timedOut = true;
        state.abort.abort();
        this.#teardown();
      });
    }, this.#limits.callTimeoutMs);
    let reply: unknown;
    try {
      reply = await context.dispatch.apply(undefined, [operationId, inputJson, state.nonce], {
        timeout: this.#limits.callTimeoutMs,
        arguments: { copy: true },
        result: { promise: true, copy: true },
      });
      state.returned = true;
      // Code the operation left behind (a loop it did not await, callbacks it queued) may still
      // be running. A task queued now runs only once the isolate is idle, so the call ends
      // there, within the same deadline (issue 17 #6).
      await this.#idle(instance, context, state);
    } catch (e) {
      throw this.#broken(instance, e, timedOut, state);
    } finally {
      clearTimeout(deadline);
      if (stopping !== undefined) clearImmediate(stopping);
      this.#current = undefined;
    }
    // A binding call still being served would resume the skill's code after its call is over;
    // so would one refused as stray. Nothing of this call may run on: a fresh isolate serves
    // the next call. The result itself stands.
    if (state.outstanding > 0 || state.stray) this.#retire(instance);
    this.#checkCpu(instance, state, where);
    this.#checkHeap(instance, where);
    return this.#decode(reply, state, operationId);
  }

  /**
   * Waits until the isolate has nothing left to run. isolated-vm reports an error that code
   * left behind threw without catching (an unhandled rejection) to this task: that code
   * outlived its operation, so it marks the call stray rather than failing a call that
   * returned.
   */
  async #idle(instance: Instance, context: SkillContext, state: CallState): Promise<void> {
    try {
      await context.context.eval('undefined');
    } catch (e) {
      if (instance.isolate.isDisposed) throw e;
      state.stray = true;
    }
  }

  /** The CPU time a call used in its isolate, checked at every binding call and at the end. */
  #overCpu(instance: Instance, state: CallState): boolean {
    if (instance.isolate.isDisposed) return false;
    return instance.isolate.cpuTime - state.cpuStart > BigInt(this.#limits.maxCpuMs) * NS_PER_MS;
  }

  #cpuError(where: string): AppError {
    return new AppError(
      'SKILL_TIMEOUT',
      `${where} used more than ${this.#limits.maxCpuMs} ms of CPU and was stopped`,
    );
  }

  #checkCpu(instance: Instance, state: CallState, where: string): void {
    if (!this.#overCpu(instance, state)) return;
    this.#retire(instance);
    throw this.#cpuError(where);
  }

  /**
   * After each call: an isolate holding more than its limit is stopped now, and this call
   * reports it, rather than leaving a later call to find the isolate gone. isolated-vm's limit
   * has not always been enforced (laverdet/isolated-vm #460); `heap_size_limit` is V8's own
   * ceiling, which garbage alone never passes.
   */
  #checkHeap(instance: Instance, where: string): void {
    if (instance.killedByHost) return;
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
      this.#retire(instance);
      throw new AppError(
        'SKILL_MEMORY',
        `${where} kept ${Math.round((heap.used_heap_size + heap.externally_allocated_size) / MIB)} MB, over the ${this.#limits.memoryLimitMb} MB memory limit; its isolate was restarted (module state is lost)`,
      );
    }
  }

  /** The isolate was disposed by isolated-vm's memory limit outside a call's execution. */
  #lostToMemory(instance: Instance, where: string, when: string): AppError {
    this.#retire(instance);
    return new AppError(
      'SKILL_MEMORY',
      `${where}: the skill's isolate went over the ${this.#limits.memoryLimitMb} MB memory limit ${when} (memory kept across calls) and was restarted; module state is lost`,
    );
  }

  /** Maps a failed call to a stable code and makes sure the next call gets a fresh isolate. */
  #broken(instance: Instance, e: unknown, timedOut: boolean, state: CallState): AppError {
    const message = messageOf(e);
    // "Isolate is disposed" without a host kill is the memory limit too, reached between the
    // check before the call and the call itself.
    const outOfMemory =
      instance.isolate.isDisposed && (/memory limit/i.test(message) || !instance.killedByHost);
    const where = `${this.#code.skillId}.${state.operationId}`;
    let error: AppError;
    if (state.cpuExceeded) {
      error = this.#cpuError(where);
    } else if ((timedOut || /timed out/i.test(message)) && state.returned) {
      // Either deadline may fire first — the host's timer or isolated-vm's own — so which one
      // did says nothing; whether the operation had returned says what the code was doing.
      error = new AppError(
        'SKILL_TIMEOUT',
        `${where} kept running after its operation returned and was stopped at the ${this.#limits.callTimeoutMs} ms limit`,
      );
    } else if (timedOut || /timed out/i.test(message)) {
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
    } else if (!instance.isolate.isDisposed) {
      // The isolate is alive, so this is an error the skill's code threw and never handled
      // (a promise it left rejected): the skill's fault, not the sandbox's.
      error = new AppError(
        'SKILL_ERROR',
        `${where} failed: its code left an error unhandled: ${truncate(message)}`,
      );
    } else {
      error = new AppError(
        'SKILL_UNAVAILABLE',
        `${where} failed inside the sandbox: ${truncate(message)}`,
      );
    }
    // Whatever state the module was left in is not trusted for the next call.
    this.#retire(instance);
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

  /**
   * The host function the isolate's bindings call; it never throws into the isolate. A call
   * is served only if it carries the nonce of the operation running now.
   */
  #hostFunction(): HostFunction {
    return async (name, argsJson, nonce) => {
      const state = this.#current;
      const refuse = (code: ErrorCode, message: string): string => {
        state?.issued.add(code);
        return JSON.stringify({ ok: false, error: { code, message } });
      };
      if (this.#disposed)
        return refuse('SKILL_UNAVAILABLE', 'bindings are only available during an operation call');
      if (name === RETURNED_SIGNAL) {
        if (state !== undefined && nonce === state.nonce) state.returned = true;
        return '';
      }
      if (state === undefined || nonce !== state.nonce) {
        // Code that outlived its operation (or top-level code at load). It is not credited to
        // whichever call runs now; its isolate goes, at the end of the current call if any.
        if (state === undefined) this.#strayWithoutCall();
        else state.stray = true;
        return refuse(
          'SKILL_UNAVAILABLE',
          'bindings are only available during an operation call; this call came from code that outlived its operation',
        );
      }
      const instance = this.#instance;
      if (instance !== undefined && this.#overCpu(instance, state)) {
        state.cpuExceeded = true;
        state.abort.abort();
        this.#teardown();
        return refuse('SKILL_TIMEOUT', `used more than ${this.#limits.maxCpuMs} ms of CPU`);
      }
      if (typeof name !== 'string' || !BINDING_SET.has(name))
        return refuse('SKILL_PERMISSION_DENIED', 'unknown binding');
      if (typeof argsJson !== 'string' || argsJson.length > this.#limits.maxInputChars) {
        return refuse(
          'PAYLOAD_TOO_LARGE',
          `binding arguments are over ${this.#limits.maxInputChars} characters`,
        );
      }
      state.outstanding += 1;
      try {
        const value = await this.#bindings(
          name as BindingName,
          JSON.parse(argsJson),
          state.abort.signal,
          { operation_id: state.operationId, envelope: state.envelope },
        );
        return JSON.stringify({ ok: true, value: value ?? null });
      } catch (e) {
        if (isAppError(e)) return refuse(e.code, e.message);
        // Host-side failures are not described to untrusted code.
        return refuse('INTERNAL', `binding ${name} failed`);
      } finally {
        state.outstanding -= 1;
      }
    };
  }

  /**
   * A binding call arrived while no operation runs. During loading that is top-level code
   * (refused, and the load fails on its own); afterwards it is code that outlived its call.
   */
  #strayWithoutCall(): void {
    const instance = this.#instance;
    if (instance !== undefined) this.#retire(instance);
  }

  /** Tears `instance` down if it is still the live one; the next call builds a fresh isolate. */
  #retire(instance: Instance): void {
    if (this.#instance === instance) this.#teardown();
  }

  #teardown(): void {
    const instance = this.#instance;
    this.#instance = undefined;
    if (instance !== undefined) disposeInstance(instance);
  }
}
