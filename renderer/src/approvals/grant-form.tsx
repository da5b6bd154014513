import { useState, type ReactNode, type SyntheticEvent } from 'react';
import type { Approval } from '../../../contracts/approvals.ts';
import type { GrantRequest } from '../../../contracts/grant-request.ts';

const HOUR_MS = 60 * 60 * 1000;
/** How long a grant may last, as offered; the host cuts anything past its pack's cap. */
const LIFETIMES: readonly { label: string; ms: number }[] = [
  { label: '1 hour', ms: HOUR_MS },
  { label: '1 day', ms: 24 * HOUR_MS },
  { label: '7 days', ms: 7 * 24 * HOUR_MS },
  { label: '30 days (the longest by default)', ms: 30 * 24 * HOUR_MS },
];

/**
 * "Approve as a standing grant" for an operation approval: later calls of the same operation
 * under the same permissions, for this run or its schedule, for a number of uses and a
 * lifetime. A call the taint gate asked about says that the pack may refuse it.
 */
export function GrantForm(props: {
  approval: Approval;
  pending: boolean;
  onGrant: (grant: GrantRequest) => void;
}): ReactNode {
  const [scope, setScope] = useState<GrantRequest['scope']>('run');
  const [uses, setUses] = useState('');
  const [lifetime, setLifetime] = useState(String(LIFETIMES[1]?.ms ?? HOUR_MS));
  const count = uses.trim() === '' ? undefined : Number(uses);
  const usable = count === undefined || (Number.isSafeInteger(count) && count >= 1);
  const submit = (e: SyntheticEvent): void => {
    e.preventDefault();
    if (!usable) return;
    props.onGrant({
      scope,
      ...(count === undefined ? {} : { uses: count }),
      until: new Date(Date.now() + Number(lifetime)).toISOString(),
    });
  };
  const id = props.approval.id;
  return (
    <details className="grant-form">
      <summary>Approve as a standing grant</summary>
      <p className="muted">
        Approves this call and lets later calls of <code>{props.approval.scope}</code> through
        without asking, with whatever arguments, as long as the skill version and the permissions
        above stay the same. You can revoke it at any time.
        {props.approval.request.taint_gate === true
          ? ' This call was asked about because its arguments come from untrusted data: unless the policy pack allows it, it cannot be granted standing.'
          : ''}
      </p>
      <div className="form-row">
        <label>
          For
          <select
            name={`grant-scope-${id}`}
            value={scope}
            onChange={(e) => {
              setScope(e.target.value === 'schedule' ? 'schedule' : 'run');
            }}
          >
            <option value="run">this run</option>
            <option value="schedule">every run of this run’s schedule</option>
          </select>
        </label>
        <label>
          Uses (empty: any number)
          <input
            name={`grant-uses-${id}`}
            inputMode="numeric"
            value={uses}
            aria-invalid={!usable}
            onChange={(e) => {
              setUses(e.target.value);
            }}
          />
        </label>
        <label>
          Lasts
          <select
            name={`grant-lifetime-${id}`}
            value={lifetime}
            onChange={(e) => {
              setLifetime(e.target.value);
            }}
          >
            {LIFETIMES.map((l) => (
              <option key={l.ms} value={String(l.ms)}>
                {l.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <button type="button" disabled={props.pending || !usable} onClick={submit}>
        Approve and grant
      </button>
    </details>
  );
}
