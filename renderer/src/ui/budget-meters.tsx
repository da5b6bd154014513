import type { ReactNode } from 'react';
import type { Run } from '../../../contracts/runs.ts';
import { duration } from './format.ts';

type Meter = { kind: string; used: number; max: number; show: (n: number) => string };

/** The four budget kinds of a run as used / limit. */
export function metersOf(run: Run): Meter[] {
  const n = (v: number): string => v.toLocaleString();
  return [
    { kind: 'steps', used: run.usage.steps, max: run.budget.max_steps, show: n },
    { kind: 'tokens', used: run.usage.tokens, max: run.budget.max_tokens, show: n },
    {
      kind: 'active time',
      used: run.usage.wall_clock_ms,
      max: run.budget.max_wall_clock_ms,
      show: duration,
    },
    { kind: 'retries', used: run.usage.retries, max: run.budget.max_retries, show: n },
  ];
}

/**
 * One meter per budget kind, with what remains and the percentage used. Native `<meter>`
 * elements: accessible, and styled from the stylesheet (no inline style for the CSP).
 */
export function BudgetMeters(props: { run: Run; compact?: boolean }): ReactNode {
  return (
    <ul className={props.compact === true ? 'meters meters-compact' : 'meters'}>
      {metersOf(props.run).map((m) => {
        const pct = m.max === 0 ? (m.used > 0 ? 100 : 0) : Math.round((m.used / m.max) * 100);
        const remaining = Math.max(0, m.max - m.used);
        const label = `${m.kind}: ${m.show(m.used)} of ${m.show(m.max)} (${pct}% used, ${m.show(remaining)} left)`;
        return (
          <li key={m.kind} className="meter" title={label}>
            <span className="meter-kind">{m.kind}</span>
            <meter
              min={0}
              max={Math.max(m.max, 1)}
              value={Math.min(m.used, Math.max(m.max, 1))}
              low={Math.max(m.max, 1) * 0.7}
              high={Math.max(m.max, 1) * 0.9}
              optimum={0}
              aria-label={label}
            />
            <span className="meter-text" data-testid={`meter-${m.kind.replace(' ', '-')}`}>
              {pct}% · {m.show(remaining)} left
            </span>
          </li>
        );
      })}
    </ul>
  );
}
