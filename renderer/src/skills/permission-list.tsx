import type { ReactNode } from 'react';
import type { AutofillGrant, SkillOperation, SkillPermissions } from '../../../contracts/skills.ts';

/** Everything a skill may reach, in the words of the consent screen. */
export function PermissionList(props: {
  permissions: SkillPermissions;
  operations: readonly SkillOperation[];
  /** Fills from the run's context the skill may be handed (shown on the consent screen). */
  autofill?: readonly AutofillGrant[];
}): ReactNode {
  const p = props.permissions;
  const capabilities = [...new Set(props.operations.flatMap((o) => o.capabilities))].sort();
  return (
    <dl className="facts permissions" data-testid="permissions">
      <dt>Network origins</dt>
      <dd>
        {p.egress.length === 0
          ? 'none'
          : p.egress.map((e) => `${e.methods.join('/')} ${e.origin}`).join(', ')}
      </dd>
      <dt>Secrets</dt>
      <dd>
        {p.secrets.length === 0
          ? 'none'
          : p.secrets
              // A bare name goes to every declared origin; a grant names its own.
              .map((s) =>
                typeof s === 'string' ? s : `${s.name} (sent only to ${s.origins.join(', ')})`,
              )
              .join(', ')}
      </dd>
      <dt>Memory namespaces</dt>
      <dd>{p.memory_namespaces.length === 0 ? 'none' : p.memory_namespaces.join(', ')}</dd>
      <dt>Capabilities</dt>
      <dd>{capabilities.join(', ')}</dd>
      {props.autofill === undefined ? null : (
        <>
          <dt>Filled in from the run</dt>
          <dd>
            {props.autofill.length === 0
              ? 'nothing'
              : props.autofill
                  .map((f) => `${f.operation_id}.${f.field} from ${f.source}`)
                  .join(', ')}
          </dd>
        </>
      )}
    </dl>
  );
}
