import { z } from 'zod';
import type { SkillManifest } from '../../../contracts/skills.ts';
import { AppError, invalidInput, isAppError } from '../../errors.ts';
import { secretGrants } from '../manifest/secret-grants.ts';
import type { SkillAuditEvent, SkillHostDeps, SkillLogLevel } from './skill-host-deps.ts';
import {
  DEFAULT_HTTP_LIMITS,
  skillHttpFetch,
  type FetchHop,
  type HttpLimits,
} from './skill-http-fetch.ts';
import type {
  BindingName,
  SkillBindingHandler,
  SkillCallContext,
} from '../sandbox/skill-sandbox.ts';
import { BINDING_CAPABILITY } from './binding-capabilities.ts';
import { toolName } from '../manifest/tool-definitions.ts';

const MAX_MEMORY_VALUE_CHARS = 64 * 1024;
const MAX_LOG_MESSAGE_CHARS = 4 * 1024;

const memoryKeySchema = z.strictObject({
  namespace: z.string().min(1).max(64),
  key: z.string().min(1).max(256),
});
const memoryPutSchema = memoryKeySchema.extend({ value: z.unknown() });
const logSchema = z.strictObject({
  level: z.enum(['debug', 'info', 'warn', 'error'] satisfies SkillLogLevel[]),
  message: z.string(),
});

/**
 * Builds the host side of a skill's bindings from its manifest: each call is checked against
 * the capabilities of the operation that made it and the manifest's permissions, and reported
 * to `deps.audit` (allowed, denied or failed).
 */
export function createSkillBindings(
  manifest: SkillManifest,
  deps: SkillHostDeps,
  httpLimits: Partial<HttpLimits> = {},
): SkillBindingHandler {
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...httpLimits };
  const capabilities = new Map(
    manifest.operations.map((op) => [op.id, new Set(op.capabilities)] as const),
  );
  const namespaces = new Set(manifest.permissions.memory_namespaces);
  const owner = { skill_id: manifest.skill_id, version: manifest.version };
  const now = deps.now ?? Date.now;
  const doFetch = deps.fetch ?? fetch;
  const packRules = deps.decide;

  const checkNamespace = (namespace: string): void => {
    if (!namespaces.has(namespace))
      throw new AppError(
        'SKILL_PERMISSION_DENIED',
        `memory namespace ${namespace} is not declared in permissions.memory_namespaces`,
      );
  };

  /** Manifest-wide permissions say where a skill may reach; the operation says whether it may at all. */
  const checkCapability = (
    name: BindingName,
    operationId: string,
    data: Record<string, unknown>,
  ): void => {
    const needs = BINDING_CAPABILITY[name];
    if (needs === undefined || capabilities.get(operationId)?.has(needs) === true) return;
    data.needs = needs;
    throw new AppError(
      'CAPABILITY_DENIED',
      `${manifest.skill_id}.${operationId} may not use ccos.${name}: it needs the capability ${needs}, which the operation does not declare`,
    );
  };

  /** One event of this skill's binding call `name` made during `call`. */
  const event = (
    name: BindingName,
    call: SkillCallContext,
    rest: Omit<SkillAuditEvent, 'skill_id' | 'version' | 'binding' | 'call'>,
  ): SkillAuditEvent => ({
    skill_id: manifest.skill_id,
    version: manifest.version,
    binding: name,
    call,
    ...rest,
  });

  const run = async (
    name: BindingName,
    args: unknown,
    signal: AbortSignal,
    call: SkillCallContext,
    data: Record<string, unknown>,
    /** Set once the call's end is on record already (a refused or failed request). */
    recorded: { end: boolean },
  ): Promise<unknown> => {
    switch (name) {
      case 'http.fetch': {
        const hops: FetchHop[] = [];
        data.hops = hops;
        return skillHttpFetch(args, {
          egress: manifest.permissions.egress,
          declaredSecrets: secretGrants(manifest.permissions),
          resolveSecret: deps.secrets,
          limits,
          signal,
          fetch: doFetch,
          hops,
          ...(packRules === undefined
            ? {}
            : {
                packRules: (origin: string) =>
                  packRules(call.envelope, {
                    kind: 'egress',
                    skill_id: manifest.skill_id,
                    operation: toolName(manifest.skill_id, call.operation_id),
                    origin,
                  }),
              }),
          record: {
            attempt: async (request) => {
              await deps.audit(
                event(name, call, { outcome: 'allowed', phase: 'attempt', request, data: {} }),
              );
            },
            outcome: async (request, result) => {
              const failed = result.code !== undefined;
              if (failed) recorded.end = true;
              await deps.audit(
                event(name, call, {
                  outcome: failed ? 'failed' : 'allowed',
                  phase: 'outcome',
                  request,
                  result,
                  data: {},
                }),
              );
            },
            refused: async (request, ruleId, error) => {
              recorded.end = true;
              await deps.audit(
                event(name, call, {
                  outcome: 'denied',
                  code: error.code,
                  phase: 'attempt',
                  request,
                  data: { rule_id: ruleId, message: error.message },
                }),
              );
            },
          },
        });
      }
      case 'memory.get': {
        const { namespace, key } = parseArgs(memoryKeySchema, args, name);
        Object.assign(data, { namespace, key });
        checkNamespace(namespace);
        return (await deps.memory.get(owner, namespace, key, call)) ?? null;
      }
      case 'memory.put': {
        const { namespace, key, value } = parseArgs(memoryPutSchema, args, name);
        Object.assign(data, { namespace, key });
        checkNamespace(namespace);
        const text = JSON.stringify(value ?? null);
        if (text.length > MAX_MEMORY_VALUE_CHARS) {
          throw new AppError(
            'PAYLOAD_TOO_LARGE',
            `memory values are limited to ${MAX_MEMORY_VALUE_CHARS} characters of JSON`,
          );
        }
        data.chars = text.length;
        // Governed memory refuses a secret (and records the refusal) inside the write.
        // The write and its `memory.write` entry commit together (or neither does).
        await deps.memory.put(
          owner,
          namespace,
          key,
          value ?? null,
          event(name, call, { outcome: 'allowed', data: { ...data } }),
        );
        recorded.end = true;
        return null;
      }
      case 'log': {
        const { level, message } = parseArgs(logSchema, args, name);
        data.level = level;
        deps.log({
          skill_id: manifest.skill_id,
          level,
          message: message.slice(0, MAX_LOG_MESSAGE_CHARS),
        });
        return null;
      }
      case 'now':
        return now();
    }
  };

  return async (name, args, signal, call) => {
    const data: Record<string, unknown> = {};
    const recorded = { end: false };
    let value: unknown;
    try {
      checkCapability(name, call.operation_id, data);
      value = await run(name, args, signal, call, data, recorded);
    } catch (e) {
      const code = isAppError(e) ? e.code : 'INTERNAL';
      // Governed memory recorded its refusal (`policy.decision` with the rule) itself.
      if (code === 'MEMORY_DENIED') recorded.end = true;
      const denied =
        code === 'SKILL_EGRESS_DENIED' ||
        code === 'SKILL_PERMISSION_DENIED' ||
        code === 'CAPABILITY_DENIED';
      if (!recorded.end) {
        await deps.audit(event(name, call, { outcome: denied ? 'denied' : 'failed', code, data }));
      }
      throw e;
    }
    if (!recorded.end) await deps.audit(event(name, call, { outcome: 'allowed', data }));
    return value;
  };
}

function parseArgs<T>(schema: z.ZodType<T>, args: unknown, name: string): T {
  const parsed = schema.safeParse(args);
  if (!parsed.success) throw invalidInput(`ccos ${name} arguments`, parsed.error.issues);
  return parsed.data;
}
