import ivm from 'isolated-vm';
import { isAppError } from '../../errors.ts';
import { skillInvalid } from '../manifest/skill-invalid.ts';
import { ISOLATE_BOOTSTRAP, RETURNED_SIGNAL } from './isolate-bootstrap.ts';
import type { SandboxLimits, SkillCode } from './skill-sandbox.ts';

/**
 * The host function every context holds a reference to: `(name, argsJson, nonce)` → the reply
 * envelope as JSON. It never throws into the isolate.
 */
export type HostFunction = (name: unknown, argsJson: unknown, nonce: unknown) => Promise<string>;

/** One context of an isolate: a global, the bootstrap and an instance of the skill's module. */
export type SkillContext = {
  context: ivm.Context;
  dispatch: ivm.Reference;
  release: () => void;
};

/**
 * One live isolate of a skill with a context per audience (issue 17 #32): module state
 * (a global a skill stashes a fact in) is never shared between runs.
 */
export type Instance = {
  isolate: ivm.Isolate;
  /** By audience, least recently used first (a Map keeps insertion order). */
  contexts: Map<string, SkillContext>;
  /** Contexts made in this isolate so far, released ones included. */
  created: number;
  /**
   * Set when the host disposes the isolate. An isolate found disposed without it was disposed
   * by isolated-vm itself, which it does only for the memory limit (catastrophic errors are
   * reported through `onCatastrophicError`).
   */
  killedByHost: boolean;
};

const MAX_ERROR_MESSAGE = 1000;

/**
 * Builds a fresh isolate for `code` with one context, for `audience`. Leaves nothing behind on
 * failure; every failure is the skill's fault, reported as SKILL_INVALID.
 */
export async function createInstance(
  code: SkillCode,
  limits: SandboxLimits,
  hostFunction: HostFunction,
  onCatastrophicError: ((skillId: string, message: string) => void) | undefined,
  audience: string,
): Promise<Instance> {
  const isolate = new ivm.Isolate({
    memoryLimit: limits.memoryLimitMb,
    onCatastrophicError: (message) => onCatastrophicError?.(code.skillId, message),
  });
  const instance: Instance = { isolate, contexts: new Map(), created: 1, killedByHost: false };
  try {
    instance.contexts.set(audience, await createContext(isolate, code, limits, hostFunction));
    return instance;
  } catch (e) {
    disposeInstance(instance);
    throw e;
  }
}

/**
 * Adds a context to a live isolate: a fresh global, the bootstrap, and the skill's module
 * evaluated again. Throws SKILL_INVALID for anything the skill's code does wrong.
 */
export async function createContext(
  isolate: ivm.Isolate,
  code: SkillCode,
  limits: SandboxLimits,
  hostFunction: HostFunction,
): Promise<SkillContext> {
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
  const loadDeadline = setTimeout(kill, limits.loadTimeoutMs);
  try {
    const context = await isolate.createContext();
    handles.push(context);
    const hostRef = new ivm.Reference(hostFunction);
    handles.push(hostRef);
    const pair: ivm.Reference = await context.evalClosure(
      ISOLATE_BOOTSTRAP,
      [hostRef, limits.maxOutputChars, RETURNED_SIGNAL],
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
      await module.evaluate({ timeout: limits.loadTimeoutMs });
    } catch (e) {
      const reason = outOfTimeOrMemory(isolate, e)
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
      timeout: limits.loadTimeoutMs,
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
    return { context, dispatch, release };
  } catch (e) {
    release();
    if (isAppError(e, 'SKILL_INVALID')) throw e;
    const reason = outOfTimeOrMemory(isolate, e)
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

/** Frees an instance's handles and disposes its isolate; marks it as the host's doing. */
export function disposeInstance(instance: Instance): void {
  instance.killedByHost = true;
  for (const c of instance.contexts.values()) c.release();
  instance.contexts.clear();
  safeDispose(instance.isolate);
}

/**
 * Disposes an isolate once. Touching a disposed isolate can abort the process (observed in a
 * probe), so every path checks `isDisposed` first and swallows the "already disposed" race.
 */
export function safeDispose(isolate: ivm.Isolate): void {
  if (isolate.isDisposed) return;
  try {
    isolate.dispose();
  } catch {
    // Disposed concurrently (memory limit or termination): the goal is reached either way.
  }
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function truncate(s: string): string {
  return s.length > MAX_ERROR_MESSAGE ? `${s.slice(0, MAX_ERROR_MESSAGE)}…` : s;
}

/**
 * The load was stopped for time or memory: the isolate is gone, or isolated-vm's own timeout
 * fired — on a busy machine it can come before the host's deadline disposes the isolate.
 */
function outOfTimeOrMemory(isolate: { isDisposed: boolean }, e: unknown): boolean {
  return isolate.isDisposed || /^Script execution timed out/.test(messageOf(e));
}
