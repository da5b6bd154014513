import { useEffect, useState, type MouseEvent, type ReactNode } from 'react';

/** The pages of the app, by path. */
export type Route =
  | { page: 'runs' }
  | { page: 'run'; runId: string }
  | { page: 'approvals' }
  | { page: 'skills' }
  | { page: 'schedules' }
  | { page: 'audit' }
  | { page: 'settings' }
  | { page: 'memory' }
  | { page: 'connectors' }
  // --- ui-outbox (issue 24) ---
  | { page: 'outbox' }
  | { page: 'outbox_message'; id: string }
  | { page: 'chat'; channel: string | null }
  | { page: 'not_found' };

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [first, second] = parts;
  if (first === undefined || (first === 'runs' && second === undefined)) return { page: 'runs' };
  if (first === 'runs' && second !== undefined && parts.length === 2)
    return { page: 'run', runId: second };
  if (
    parts.length === 1 &&
    (first === 'approvals' || first === 'skills' || first === 'audit' || first === 'schedules')
  )
    return { page: first };
  if (parts.length === 1 && first === 'settings') return { page: 'settings' };
  if (parts.length === 1 && first === 'memory') return { page: 'memory' };
  if (parts.length === 1 && first === 'connectors') return { page: 'connectors' };
  // --- ui-outbox (issue 24) ---
  if (first === 'outbox' && parts.length === 1) return { page: 'outbox' };
  if (first === 'outbox' && second !== undefined && parts.length === 2)
    return { page: 'outbox_message', id: second };
  if (first === 'chat' && parts.length <= 2) return { page: 'chat', channel: second ?? null };
  return { page: 'not_found' };
}

const NAVIGATED = 'ccos:navigated';

/** Moves to `path` within the app (history API; the gateway serves index.html for it). */
export function navigate(path: string): void {
  if (path === window.location.pathname) return;
  window.history.pushState(null, '', path);
  window.dispatchEvent(new Event(NAVIGATED));
}

/** The current route, following back/forward and `navigate`. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const update = (): void => {
      setRoute(parseRoute(window.location.pathname));
    };
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATED, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATED, update);
    };
  }, []);
  return route;
}

/** An in-app link: a real `<a href>` (keyboard, open in new tab) that navigates in place. */
export function Link(props: {
  to: string;
  children: ReactNode;
  className?: string;
  ariaCurrent?: boolean;
}): ReactNode {
  const onClick = (e: MouseEvent<HTMLAnchorElement>): void => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.to);
  };
  return (
    <a
      href={props.to}
      onClick={onClick}
      className={props.className}
      aria-current={props.ariaCurrent === true ? 'page' : undefined}
    >
      {props.children}
    </a>
  );
}
