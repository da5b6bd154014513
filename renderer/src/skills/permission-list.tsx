import type { ReactNode } from 'react';
import type { SkillOperation, SkillPermissions } from '../../../contracts/skills.ts';

/** Everything a skill may reach, in the words of the consent screen. */
export function PermissionList(props: {
  permissions: SkillPermissions;
  operations: readonly SkillOperation[];
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
      <dd>{p.secrets.length === 0 ? 'none' : p.secrets.join(', ')}</dd>
      <dt>Memory namespaces</dt>
      <dd>{p.memory_namespaces.length === 0 ? 'none' : p.memory_namespaces.join(', ')}</dd>
      <dt>Capabilities</dt>
      <dd>{capabilities.join(', ')}</dd>
    </dl>
  );
}
