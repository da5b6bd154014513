import type { ReactNode } from 'react';
import { useDeadLetterCount } from './use-dead-letters.ts';

/**
 * The navigation's dead-letter count: a message nobody retries or discards is never sent, so
 * it must be seen from every page (OpenClaw's dead letters sat unseen: openclaw#112313).
 * Nothing shows while there is none.
 */
export function DeadLettersBadge(): ReactNode {
  const dead = useDeadLetterCount();
  if (dead === undefined) return null;
  return (
    <span
      className="nav-badge"
      data-testid="dead-letters-badge"
      aria-label={`${dead.text} dead ${dead.count === 1 ? 'letter' : 'letters'}`}
    >
      {dead.text}
    </span>
  );
}
