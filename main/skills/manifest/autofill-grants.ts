import type {
  AutofillGrant,
  SkillManifest,
  SkillOperation,
  SkillPermissions,
} from '../../../contracts/skills.ts';

/** `memory:<namespace>.<key>`: a value of the person's shared memory. */
const MEMORY_SOURCE = /^memory:([a-z0-9][a-z0-9_-]*)\.([A-Za-z0-9_.-]+)$/;
/** Context every run has; what may be handed out is the policy pack's call. */
const RUN_SOURCES = new Set(['run.goal', 'run.id']);

/**
 * Whether a skill may be handed values from `source` at all: run context, or memory of a
 * namespace the skill declared (and so showed on its consent). A schema naming a namespace
 * the skill never declared gets nothing from it, whatever the policy pack allows.
 */
export function autofillPermitted(source: string, permissions: SkillPermissions): boolean {
  if (RUN_SOURCES.has(source)) return true;
  const memory = MEMORY_SOURCE.exec(source);
  return memory !== null && permissions.memory_namespaces.includes(memory[1] ?? '');
}

/** The `x-ccos-autofill` fields of an operation's input schema, by field name. */
export function autofillFields(op: SkillOperation): { field: string; source: string }[] {
  const properties = (op.input_schema.properties ?? {}) as Record<string, unknown>;
  return Object.entries(properties).flatMap(([field, property]) => {
    const source =
      typeof property === 'object' && property !== null
        ? (property as Record<string, unknown>)['x-ccos-autofill']
        : undefined;
    return typeof source === 'string' ? [{ field, source }] : [];
  });
}

/** Every fill a skill may receive (permitted by its permissions), for its install consent. */
export function autofillGrants(
  manifest: Pick<SkillManifest, 'operations' | 'permissions'>,
): AutofillGrant[] {
  return manifest.operations.flatMap((op) =>
    autofillFields(op)
      .filter((f) => autofillPermitted(f.source, manifest.permissions))
      .map((f) => ({ operation_id: op.id, ...f })),
  );
}
