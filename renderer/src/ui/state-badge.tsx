import type { ReactNode } from 'react';
import type { RunState } from '../../../contracts/runs.ts';

/** A run's state as a coloured, readable badge. */
export function StateBadge(props: { state: RunState }): ReactNode {
  return (
    <span className={`badge state-${props.state}`} data-testid="run-state">
      {props.state.replace('_', ' ')}
    </span>
  );
}
