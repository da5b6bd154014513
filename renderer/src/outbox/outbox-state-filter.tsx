import type { ReactNode } from 'react';
import type { OutboxState } from '../../../contracts/outbox.ts';
import { STATE_FILTERS, stateText } from './outbox-facts.ts';

/**
 * The list's state filter as a row of toggle buttons, so dead letters are one press away; the
 * dead one carries their count when there are any.
 */
export function OutboxStateFilter(props: {
  state: OutboxState | '';
  deadCount: string | undefined;
  onChange: (state: OutboxState | '') => void;
}): ReactNode {
  return (
    <div className="button-row state-filter" role="group" aria-label="Show messages">
      {STATE_FILTERS.map((s) => {
        const label = s === '' ? 'All' : s === 'dead' ? 'Dead letters' : capitalise(stateText(s));
        return (
          <button
            key={s}
            type="button"
            className={props.state === s ? 'filter-on' : 'filter-off'}
            aria-pressed={props.state === s}
            onClick={() => {
              props.onChange(s);
            }}
          >
            {label}
            {s === 'dead' && props.deadCount !== undefined ? ` (${props.deadCount})` : ''}
          </button>
        );
      })}
    </div>
  );
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
