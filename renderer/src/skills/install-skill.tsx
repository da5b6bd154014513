import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type SyntheticEvent, type ReactNode } from 'react';
import type { CallOutput } from '../../../contracts/api-call.ts';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { desktopBridge } from '../ui/notify.ts';
import { InlineError } from '../ui/states.tsx';
import { PermissionList } from './permission-list.tsx';

type Source = { path: string } | { url: string };
type Inspected = CallOutput<'inspectSkill'>;

/** A path on this machine or an https URL, as the install route takes it. */
function sourceOf(text: string): Source {
  const t = text.trim();
  return /^https?:\/\//i.test(t) ? { url: t } : { path: t };
}

/**
 * Install in two steps: the host checks the skill and lists what it may reach (the consent
 * screen); only "Install" installs, and only the exact skill shown (its digest is pinned).
 */
export function InstallSkill(): ReactNode {
  const { client } = useServices();
  const queries = useQueryClient();
  const [source, setSource] = useState('');
  const [consent, setConsent] = useState<{ source: Source; inspected: Inspected } | null>(null);
  const inspect = useMutation({
    mutationFn: (s: Source) => client.call('inspectSkill', { body: s }),
    onSuccess: (inspected, s) => {
      setConsent({ source: s, inspected });
    },
  });
  const install = useMutation({
    mutationFn: (c: { source: Source; digest: string }) =>
      client.call('installSkill', { body: { ...c.source, consent_digest: c.digest } }),
    onSuccess: async () => {
      setConsent(null);
      setSource('');
      await queries.invalidateQueries({ queryKey: queryKeys.skills });
    },
  });
  const check = (e: SyntheticEvent): void => {
    e.preventDefault();
    setConsent(null);
    install.reset();
    inspect.mutate(sourceOf(source));
  };
  return (
    <div className="card install-skill">
      <form onSubmit={check} aria-label="Install a skill">
        <h2>Install a skill</h2>
        <label>
          Folder, .tgz, skill.md / skill.yaml (absolute path on this machine) or an https URL
          <input
            name="source"
            required
            value={source}
            placeholder="/home/me/skills/echo-notes"
            onChange={(e) => {
              setSource(e.target.value);
            }}
          />
        </label>
        <PickFromDisk onPicked={setSource} />
        <button type="submit" disabled={inspect.isPending}>
          {inspect.isPending ? 'Checking…' : 'Check what it may reach'}
        </button>
        <InlineError error={inspect.error} />
      </form>
      {consent === null ? null : (
        <section className="consent" aria-labelledby="consent-title" data-testid="consent">
          <h3 id="consent-title">
            Install {consent.inspected.skill.name} {consent.inspected.skill.version}?
          </h3>
          <p>{consent.inspected.skill.description}</p>
          <p>Nothing is installed until you say so. It may reach:</p>
          <PermissionList
            permissions={consent.inspected.skill.permissions}
            operations={consent.inspected.skill.operations}
            autofill={consent.inspected.autofill}
          />
          <p>
            Operations:{' '}
            {consent.inspected.skill.operations
              .map((o) => `${o.id} (approval ${o.approval})`)
              .join(', ')}
          </p>
          <div className="button-row">
            <button
              type="button"
              className="approve"
              disabled={install.isPending}
              onClick={() => {
                install.mutate({ source: consent.source, digest: consent.inspected.digest });
              }}
            >
              Install
            </button>
            <button
              type="button"
              onClick={() => {
                setConsent(null);
              }}
            >
              Do not install
            </button>
          </div>
          <InlineError error={install.error} />
        </section>
      )}
    </div>
  );
}

/** In the desktop app: choose the skill's folder or file with the system's dialog. */
function PickFromDisk(props: { onPicked: (path: string) => void }): ReactNode {
  const pick = desktopBridge()?.pickSkillSource;
  if (pick === undefined) return null;
  const choose = (kind: 'folder' | 'file'): void => {
    void pick(kind).then((r) => {
      if (r.path !== null) props.onPicked(r.path);
    });
  };
  return (
    <div className="button-row">
      <button
        type="button"
        onClick={() => {
          choose('folder');
        }}
      >
        Choose a folder…
      </button>
      <button
        type="button"
        onClick={() => {
          choose('file');
        }}
      >
        Choose a file…
      </button>
    </div>
  );
}
