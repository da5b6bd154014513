import type { z } from 'zod';
import {
  onboardingStepSchema,
  type OnboardingStep,
  type SkillOperation,
  type SkillPermissions,
} from '../../../contracts/skills.ts';
import type { JsonSchemaCompiler } from '../manifest/compile-json-schema.ts';
import { applyJsonLogic } from '../../json-logic.ts';
import { isJsonPointer, parseStoreTarget, PLACEHOLDER } from '../manifest/store-target.ts';
import { secretNames } from '../manifest/secret-grants.ts';
import type { DocPath } from './located-document.ts';

/** Refuses with `file:line` at `path` (the compilation's own locator). */
export type Fail = (path: DocPath, problem: string, fix: string) => never;

/**
 * Checks a document's `onboarding` list against the compiled operations and permissions, fail
 * fast like the rest of the load contract (docs/declarative-skills.md "Onboarding"): unknown
 * operations, params the operation's schema refuses, malformed JSON pointers, memory targets
 * outside the declared namespaces, secret targets not in `permissions.secrets`, placeholders
 * naming values no earlier step stores (or any secret), and `until` rules JSON Logic cannot run.
 */
export function compileOnboarding(
  raw: unknown,
  operations: readonly SkillOperation[],
  permissions: SkillPermissions,
  compiler: JsonSchemaCompiler,
  fail: Fail,
): OnboardingStep[] {
  if (!Array.isArray(raw))
    fail(['onboarding'], 'is not a list of steps', 'write onboarding: [ {id, kind, …}, … ]');
  const steps: OnboardingStep[] = [];
  const ids = new Set<string>();
  /** `<ns>.<key>` values earlier steps put in memory: what placeholders may name. */
  const stored = new Set<string>();
  (raw as unknown[]).forEach((value, i) => {
    const where = (...rest: PropertyKey[]): DocPath => ['onboarding', i, ...rest];
    const parsed = onboardingStepSchema.safeParse(value);
    if (!parsed.success) fromZod(parsed.error, where, fail);
    const step = parsed.data;
    if (ids.has(step.id))
      fail(where('id'), `repeats the step id "${step.id}"`, 'give every step a distinct id');
    ids.add(step.id);
    switch (step.kind) {
      case 'api_call':
      case 'wait_for': {
        const op = operations.find((o) => o.id === step.operation);
        if (op === undefined)
          fail(
            where('operation'),
            `names "${step.operation}", which is not an operation of this skill`,
            `use one of: ${operations.map((o) => o.id).join(', ')}`,
          );
        const check = compiler.compile(op.input_schema)(step.params);
        if (!check.ok)
          fail(
            where('params'),
            `do not fit ${op.id}'s parameters: ${check.problems.join('; ')}`,
            'give the values the operation requires',
          );
        if (step.kind === 'wait_for') {
          try {
            applyJsonLogic(step.until, { status: 200, body: {} });
          } catch (e) {
            fail(
              where('until'),
              `is not a JSON Logic rule (${e instanceof Error ? e.message : 'invalid'})`,
              'write a rule such as {"==": [{"var": "body.status"}, "claimed"]}',
            );
          }
          if (step.timeout_s < step.every_s)
            fail(where('timeout_s'), 'is shorter than every_s', 'wait at least one interval');
          break;
        }
        let secrets = 0;
        step.store.forEach((target, j) => {
          if (!isJsonPointer(target.from))
            fail(
              where('store', j, 'from'),
              `("${target.from}") is not a JSON pointer`,
              'write a pointer into the response body such as /agent/api_key',
            );
          const to = parseStoreTarget(target.to);
          if (to === undefined)
            fail(
              where('store', j, 'to'),
              `("${target.to}") is neither memory:<namespace>.<key> nor secret:<NAME>`,
              'write e.g. memory:moltbook.claim_url or secret:MOLTBOOK_API_KEY',
            );
          if (to.kind === 'secret') {
            secrets += 1;
            const declared = secretNames(permissions);
            if (!declared.includes(to.name))
              fail(
                where('store', j, 'to'),
                `writes secret ${to.name}, which the skill does not declare`,
                `use the skill's auth secret (${declared.join(', ') || 'none declared'})`,
              );
            if (secrets > 1)
              fail(
                where('store', j, 'to'),
                'is a second secret in one step',
                'store one secret per api_call step (each needs its own approval)',
              );
          } else {
            checkNamespace(to.namespace, permissions, where('store', j, 'to'), fail);
            stored.add(`${to.namespace}.${to.key}`);
          }
        });
        break;
      }
      case 'human_action': {
        const namespace = step.namespace ?? permissions.memory_namespaces[0];
        if (namespace === undefined)
          fail(
            where('namespace'),
            'is missing and the skill declares no memory namespace for the answers',
            'declare memory_namespaces: [name] or give the step a namespace',
          );
        checkNamespace(namespace, permissions, where('namespace'), fail);
        for (const match of step.instructions.matchAll(PLACEHOLDER)) {
          const [text, source, ns, key] = match;
          if (source !== 'memory')
            fail(
              where('instructions'),
              `uses ${text}: only memory values may be shown to a person, never secrets`,
              'use {{memory.<namespace>.<key>}} placeholders',
            );
          if (!stored.has(`${ns ?? ''}.${key ?? ''}`))
            fail(
              where('instructions'),
              `uses ${text}, which no earlier step stores`,
              'store it in an earlier api_call (store: [{from, to: memory:<ns>.<key>}])',
            );
        }
        for (const field of step.fields) stored.add(`${namespace}.${field.name}`);
        break;
      }
    }
    steps.push(step);
  });
  return steps;
}

function checkNamespace(
  namespace: string,
  permissions: SkillPermissions,
  path: DocPath,
  fail: Fail,
): void {
  if (!permissions.memory_namespaces.includes(namespace))
    fail(
      path,
      `uses memory namespace "${namespace}", which the skill does not declare`,
      `add it to memory_namespaces`,
    );
}

function fromZod(error: z.ZodError, where: (...rest: PropertyKey[]) => DocPath, fail: Fail): never {
  const issue = error.issues[0];
  const message = issue?.message ?? 'is invalid';
  fail(
    where(...(issue?.path ?? [])),
    message.endsWith('received undefined') ? 'is missing' : message,
    'see docs/declarative-skills.md "Onboarding" (kinds: api_call, human_action, wait_for)',
  );
}
