import { readFileSync, readdirSync } from 'node:fs';

/** The parent of every process on the machine, from /proc/<pid>/stat. */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // it ended while we looked
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    out.set(Number(name), ppid);
  }
  return out;
}

/** Every live descendant of `root` (workers, jails and what runs inside them). */
export function descendantsOf(root: number): Set<number> {
  const byParent = parents();
  const found = new Set<number>();
  let frontier = [root];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const [pid, ppid] of byParent) {
      if (frontier.includes(ppid) && !found.has(pid)) {
        found.add(pid);
        next.push(pid);
      }
    }
    frontier = next;
  }
  return found;
}
