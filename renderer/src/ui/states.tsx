import type { ReactNode } from 'react';
import { ApiError } from '../api/api-client.ts';

/** A screen's loading state. */
export function Loading(props: { what: string }): ReactNode {
  return (
    <p className="state state-loading" role="status" aria-live="polite">
      Loading {props.what}…
    </p>
  );
}

/** A screen's empty state: what there is none of, and what to do next. */
export function Empty(props: { title: string; children: ReactNode }): ReactNode {
  return (
    <div className="state state-empty">
      <h2>{props.title}</h2>
      <p>{props.children}</p>
    </div>
  );
}

/** What to do about an error, by its stable code. */
const NEXT_STEP: Partial<Record<string, string>> = {
  HOST_UNREACHABLE: 'Start the host again (npm start), then reload this page.',
  UNAUTHORIZED: 'The session ended: run `ccos open` and open the new link.',
  FORBIDDEN: 'This session may not do that.',
  NOT_FOUND: 'It may have been removed; go back to the list.',
  CONFLICT: 'Someone (or the run) changed it meanwhile; look again.',
  ILLEGAL_TRANSITION: 'The run is no longer in a state that allows this.',
  SKILL_INVALID: 'Fix the skill where the message says, then install again.',
};

/** A screen's error state: the server's message, its code and the next step. */
export function ErrorState(props: { error: unknown; retry?: () => void }): ReactNode {
  const e = props.error;
  const code = e instanceof ApiError ? e.code : 'INTERNAL';
  const message = e instanceof Error ? e.message : typeof e === 'string' ? e : 'unexpected error';
  return (
    <div className="state state-error" role="alert">
      <p>
        <strong>{message}</strong> <code>{code}</code>
      </p>
      {NEXT_STEP[code] === undefined ? null : <p>{NEXT_STEP[code]}</p>}
      {props.retry === undefined ? null : (
        <button type="button" onClick={props.retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** The one-line error under a form or a button that failed. */
export function InlineError(props: { error: unknown }): ReactNode {
  if (props.error === null || props.error === undefined) return null;
  const e = props.error;
  const message = e instanceof Error ? e.message : typeof e === 'string' ? e : 'unexpected error';
  const code = e instanceof ApiError ? ` (${e.code})` : '';
  return (
    <p className="inline-error" role="alert">
      {message}
      {code}
    </p>
  );
}
