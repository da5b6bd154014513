import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import type { SkillListEntry } from '../../../contracts/skills.ts';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { JsonView } from '../ui/json-view.tsx';
import { InlineError } from '../ui/states.tsx';
import { PermissionList } from './permission-list.tsx';

const ONBOARDING_TEXT: Record<string, string> = {
  READY: 'ready (no setup needed)',
  OPERATIONAL: 'set up and operational',
  LOADED: 'needs setup before its operations work',
  NEEDS_SETUP: 'setup is in progress',
  PENDING_HUMAN_ACTION: 'waits for you: see Approvals for what to do',
  NOT_LOADED: 'not loaded',
};

/** One installed skill: operations and schemas, permissions, onboarding, and its switches. */
export function SkillCard(props: { skill: SkillListEntry }): ReactNode {
  const { client } = useServices();
  const queries = useQueryClient();
  const s = props.skill;
  const params = { params: { id: s.skill_id } };
  const refresh = (): Promise<void> => queries.invalidateQueries({ queryKey: queryKeys.skills });
  const toggle = useMutation({
    mutationFn: () => client.call(s.status === 'enabled' ? 'disableSkill' : 'enableSkill', params),
    onSuccess: refresh,
  });
  const unload = useMutation({
    mutationFn: () => client.call('unloadSkill', params),
    onSuccess: refresh,
  });
  const setup = useMutation({
    mutationFn: () => client.call('startSkillOnboarding', params),
    onSuccess: refresh,
  });
  const needsSetup = s.onboarding.state === 'LOADED' || s.onboarding.state === 'NEEDS_SETUP';
  return (
    <article className="card skill" data-testid="skill" data-skill-id={s.skill_id}>
      <header>
        <h2>
          {s.name}{' '}
          <span className="muted">
            {s.skill_id} {s.version}
          </span>
        </h2>
        <span className={`badge skill-${s.status}`}>{s.status}</span>
      </header>
      <p>{s.description}</p>
      {s.load_error === undefined ? null : (
        <div className="state state-error" role="alert" data-testid="load-error">
          {/* The host's message names the file, the line or field, and the fix. */}
          <p>
            <strong>It did not load:</strong> {s.load_error.message}{' '}
            <code>{s.load_error.code}</code>
          </p>
          <p>Fix the skill, then Enable to load it again, or Unload to remove it.</p>
        </div>
      )}
      <p>
        Setup: {ONBOARDING_TEXT[s.onboarding.state] ?? s.onboarding.state}
        {s.onboarding.waiting_for === undefined ? '' : ` — ${s.onboarding.waiting_for}`}
      </p>
      <PermissionList permissions={s.permissions} operations={s.operations} />
      <details>
        <summary>{s.operations.length} operations and their input schemas</summary>
        {s.operations.map((o) => (
          <div key={o.id} className="operation">
            <h3>
              <code>{o.id}</code> <span className="muted">approval {o.approval}</span>
            </h3>
            <p>{o.description}</p>
            <JsonView value={o.input_schema} label={`input schema of ${o.id}`} />
          </div>
        ))}
      </details>
      <div className="button-row">
        <button
          type="button"
          onClick={() => {
            toggle.mutate();
          }}
          disabled={toggle.isPending}
        >
          {s.status === 'enabled'
            ? 'Disable'
            : s.status === 'failed'
              ? 'Enable (load again)'
              : 'Enable'}
        </button>
        {needsSetup ? (
          <button
            type="button"
            onClick={() => {
              setup.mutate();
            }}
            disabled={setup.isPending}
          >
            Run setup
          </button>
        ) : null}
        <button
          type="button"
          className="deny"
          onClick={() => {
            unload.mutate();
          }}
          disabled={unload.isPending}
        >
          Unload
        </button>
      </div>
      <InlineError error={toggle.error ?? unload.error ?? setup.error} />
    </article>
  );
}
