import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, type ReactNode } from 'react';
import type { Run } from '../../../contracts/runs.ts';
import { Link } from '../router.tsx';
import { BudgetMeters } from '../ui/budget-meters.tsx';
import { age } from '../ui/format.ts';
import { StateBadge } from '../ui/state-badge.tsx';

const ROW_HEIGHT = 84;
/** Rows rendered beyond the visible ones, so a fast scroll shows no gap. */
const OVERSCAN = 6;

/**
 * The runs as a virtualised list (TanStack Virtual): only the rows in view exist in the DOM,
 * so 10,000 runs cost what 20 do. Asks for the next page when the end comes into view.
 */
export function RunList(props: {
  runs: readonly Run[];
  hasMore: boolean;
  loadMore: () => void;
}): ReactNode {
  const scroller = useRef<HTMLDivElement>(null);
  // TanStack Virtual's hook returns functions React Compiler cannot memoise; none is used here.
  const virtualizer = useVirtualizer({
    count: props.runs.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: OVERSCAN,
  });
  const items = virtualizer.getVirtualItems();
  const last = items.at(-1);
  const { hasMore, loadMore, runs } = props;
  useEffect(() => {
    if (last !== undefined && hasMore && last.index >= runs.length - OVERSCAN) loadMore();
  }, [last, hasMore, loadMore, runs.length]);

  return (
    <div className="run-list" ref={scroller} data-testid="run-list" tabIndex={-1}>
      {/* Sizes and offsets are set through the CSSOM (React's style prop), which the CSP allows. */}
      <ul className="run-list-inner" style={{ height: `${virtualizer.getTotalSize()}px` }}>
        {items.map((item) => {
          const run = runs[item.index];
          if (run === undefined) return null;
          return (
            <li
              key={run.id}
              className="run-row"
              data-testid="run-row"
              data-run-id={run.id}
              style={{ transform: `translateY(${item.start}px)`, height: `${ROW_HEIGHT}px` }}
            >
              <div className="run-row-head">
                <StateBadge state={run.state} />
                <Link to={`/runs/${encodeURIComponent(run.id)}`} className="run-goal">
                  {run.goal}
                </Link>
                <span className="muted run-age">{age(run.created_at)}</span>
              </div>
              <BudgetMeters run={run} compact />
            </li>
          );
        })}
      </ul>
    </div>
  );
}
