import { useState, type ReactNode } from 'react';

/**
 * A destructive button that asks first: the first press shows the question with a confirm and
 * a cancel button (focus on cancel, so a stray Enter does not go on to destroy); only the
 * confirm does the action.
 */
export function ConfirmAction(props: {
  /** The first button's text, e.g. "Delete". */
  label: string;
  /** Its accessible name when several stand on one page ("Delete shopping"); starts with `label`. */
  name?: string;
  /** What will happen, asked as a question. */
  question: string;
  /** The confirming button's text, e.g. "Delete the item". */
  confirmLabel: string;
  pending: boolean;
  onConfirm: () => void;
}): ReactNode {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button
        type="button"
        className="deny"
        aria-label={props.name}
        disabled={props.pending}
        onClick={() => {
          setAsking(true);
        }}
      >
        {props.label}
      </button>
    );
  return (
    <div className="confirm" role="group" aria-label={props.question}>
      <p>{props.question}</p>
      <div className="button-row">
        <button
          type="button"
          className="deny"
          disabled={props.pending}
          onClick={() => {
            props.onConfirm();
            setAsking(false);
          }}
        >
          {props.confirmLabel}
        </button>
        <button
          type="button"
          // Safer default: the keyboard lands on the way back, not on the destruction.
          autoFocus
          onClick={() => {
            setAsking(false);
          }}
        >
          Cancel
        </button>
      </div>
    </div>
  );
}
