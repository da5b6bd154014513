import type { Approval } from '../../contracts/approvals.ts';
import type { Run } from '../../contracts/runs.ts';
import { usageLine } from './inspect-commands.ts';

/** Arguments in a table cell are cut here; `approvals show` prints them whole. */
const CELL_CHARS = 40;

/** What an approval is about, in one cell: the tool and its arguments, or its scope. */
export function approvalSubject(a: Approval): string {
  const { tool, params, http } = requestParts(a);
  if (tool === undefined) return a.scope;
  // The tool and its request are never cut: they are what is being approved.
  const what = http === undefined ? tool : `${tool} ${http.method} ${http.url}`;
  if (params === undefined) return what;
  const args = JSON.stringify(params);
  return `${what} ${args.length > CELL_CHARS ? `${args.slice(0, CELL_CHARS - 1)}…` : args}`;
}

/** `12m 5s left`, `expired`, or `-` when it waits for a decision however long it takes. */
export function timeLeft(a: Approval): string {
  if (a.state === 'expired') return 'expired';
  if (a.expires_in_ms === null) return '-';
  const s = Math.ceil(a.expires_in_ms / 1000);
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m ${s % 60}s left` : `${s}s left`;
}

/**
 * What deciding costs the run: an operation call is one step of its budget; a budget
 * approval lifts one limit by the amount asked. Shown beside the run's usage so far.
 */
export function budgetImpact(a: Approval): string {
  if (a.kind === 'budget') {
    const r = a.request as { kind?: unknown; limit?: unknown; extension?: unknown };
    const limit = typeof r.limit === 'number' ? r.limit : undefined;
    const more = typeof r.extension === 'number' ? r.extension : undefined;
    return limit === undefined || more === undefined
      ? `extends the budget (${a.scope})`
      : `${String(r.kind)} limit ${limit} → ${limit + more} (${a.scope})`;
  }
  const tool = requestParts(a).tool;
  return tool === undefined
    ? 'no budget of its own'
    : 'approving runs the call: one step (and the tokens of the answer that follows)';
}

/** `ccos approvals show`: everything a person needs to decide, without `--json`. */
export function renderApproval(a: Approval, run: Run | undefined): string {
  const { tool, params, http } = requestParts(a);
  const lines = [
    `approval  ${a.id} (${a.kind})`,
    `state     ${a.state}${a.reason === null ? '' : ` (${a.reason})`}${a.decided_by === null ? '' : ` by ${a.decided_by}`}`,
    `run       ${a.run_id}${run === undefined ? '' : ` (${run.state})`}`,
    `why       ${a.justification}`,
  ];
  if (tool !== undefined) lines.push(`tool      ${tool}`);
  if (http !== undefined) lines.push(`request   ${http.method} ${http.url}`);
  if (params !== undefined)
    lines.push(`arguments ${JSON.stringify(params, null, 2).replaceAll('\n', '\n          ')}`);
  if (tool === undefined) lines.push(`scope     ${a.scope}`);
  for (const change of a.permission_diff)
    lines.push(
      `grants    ${change.permission}: ${change.from === undefined ? '' : `${JSON.stringify(change.from)} → `}${JSON.stringify(change.to)}`,
    );
  if (run !== undefined) {
    lines.push(`budget    ${budgetImpact(a)}`);
    lines.push(`          run so far: ${usageLine(run)}`);
  }
  if (a.state === 'pending' && a.kind === 'operation' && a.request.taint_gate !== true)
    lines.push(
      'standing  `approve --grant run|schedule [--uses N] [--for 7d]` also lets later calls of this operation, under these permissions, through',
    );
  if (a.state === 'pending')
    lines.push(
      `expires   ${a.expires_at === null ? 'never: waits for a decision or the end of its run' : `${a.expires_at} (${timeLeft(a)}), then counts as refused`}`,
    );
  return lines.join('\n');
}

type RequestParts = {
  tool: string | undefined;
  params: unknown;
  http: { method: string; url: string } | undefined;
};

/** The parts of a request the host writes for operation and missing-input approvals. */
function requestParts(a: Approval): RequestParts {
  const r = a.request as { tool?: unknown; params?: unknown; http?: unknown };
  const http = r.http as { method?: unknown; url?: unknown } | undefined;
  return {
    tool: typeof r.tool === 'string' ? r.tool : undefined,
    params: r.params,
    http:
      typeof http?.method === 'string' && typeof http.url === 'string'
        ? { method: http.method, url: http.url }
        : undefined,
  };
}
