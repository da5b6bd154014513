import type { ReactNode } from 'react';

/** A JSON value as indented text (already redacted by the host). */
export function JsonView(props: { value: unknown; label?: string }): ReactNode {
  return (
    <pre className="json" aria-label={props.label}>
      {JSON.stringify(props.value, null, 2)}
    </pre>
  );
}
