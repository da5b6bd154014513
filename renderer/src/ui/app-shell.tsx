import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useLiveStatus, useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { Link, type Route } from '../router.tsx';
import { DeadLettersBadge } from '../outbox/dead-letters-badge.tsx';
import { desktopBridge, notifyNewApproval } from './notify.ts';
import { ThemeToggle } from './theme-toggle.tsx';

const NAV: readonly { to: string; label: string; pages: readonly Route['page'][] }[] = [
  { to: '/runs', label: 'Runs', pages: ['runs', 'run'] },
  { to: '/approvals', label: 'Approvals', pages: ['approvals'] },
  { to: '/skills', label: 'Skills', pages: ['skills'] },
  { to: '/schedules', label: 'Schedules', pages: ['schedules'] },
  { to: '/memory', label: 'Memory', pages: ['memory'] },
  { to: '/connectors', label: 'Connectors', pages: ['connectors'] },
  { to: '/outbox', label: 'Outbox', pages: ['outbox', 'outbox_message'] },
  { to: '/chat', label: 'Chat', pages: ['chat'] },
  { to: '/audit', label: 'Audit', pages: ['audit'] },
  { to: '/settings', label: 'Settings', pages: ['settings'] },
];

const LIVE_TEXT = {
  connecting: 'connecting…',
  live: 'live',
  retrying: 'reconnecting…',
  signed_out: 'signed out: run `ccos open`',
} as const;

/**
 * Navigation with the pending-approvals badge (also in the window title), the live
 * connection state, the theme switch, and a desktop notification for each new approval.
 */
export function AppShell(props: { route: Route; children: ReactNode }): ReactNode {
  const { client, live } = useServices();
  const status = useLiveStatus();
  const approvals = useQuery({
    queryKey: queryKeys.approvals,
    queryFn: () => client.call('listApprovals', { query: { state: 'pending' } }),
  });
  const pending = approvals.data?.approvals.length ?? 0;
  useEffect(() => {
    document.title =
      pending === 0 ? 'CCOS Gateway' : `(${pending}) CCOS Gateway — approvals waiting`;
    // In the desktop app the tray shows the count too.
    desktopBridge()?.setPendingApprovals?.(pending);
  }, [pending]);
  const [announce, setAnnounce] = useState('');
  const seen = useRef(new Set<number>());
  useEffect(
    () =>
      live.subscribe((event) => {
        if (event.event_type !== 'approval.request' || seen.current.has(event.seq)) return;
        seen.current.add(event.seq);
        const text =
          typeof event.data.justification === 'string'
            ? event.data.justification
            : 'An agent asks for a decision';
        setAnnounce(`New approval: ${text}`);
        notifyNewApproval(text);
      }),
    [live],
  );
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">CCOS Gateway</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.to}>
                <Link to={item.to} ariaCurrent={item.pages.includes(props.route.page)}>
                  {item.label}
                  {item.to === '/approvals' && pending > 0 ? (
                    <span
                      className="nav-badge"
                      data-testid="approvals-badge"
                      aria-label={`${pending} waiting`}
                    >
                      {pending}
                    </span>
                  ) : null}
                  {item.to === '/outbox' ? <DeadLettersBadge /> : null}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <span className={`live live-${status}`} data-testid="live-status">
          {LIVE_TEXT[status]}
        </span>
        <ThemeToggle />
      </header>
      <p className="sr-only" aria-live="assertive">
        {announce}
      </p>
      <main id="main" tabIndex={-1}>
        {props.children}
      </main>
    </div>
  );
}
