import type { ReactNode } from 'react';
import type { OutboxState } from '../../../contracts/outbox.ts';
import { stateText } from './outbox-facts.ts';

/** A message's state as a coloured, readable badge (colour is never the only sign). */
export function OutboxStateBadge(props: { state: OutboxState }): ReactNode {
  return (
    <span
      className={`badge outbox-${props.state}`}
      data-testid="outbox-state"
      data-state={props.state}
    >
      {stateText(props.state)}
    </span>
  );
}
