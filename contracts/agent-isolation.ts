import { z } from 'zod';

/**
 * How a spawner confines an agent worker (ARCHITECTURE.md §8), strongest first:
 * `bubblewrap` — Linux namespaces (no network, own PID space, read-only filesystem),
 * resource limits, a seccomp filter, and Node's permission model inside;
 * `node_permission_model` — Node's permission model alone, which shares the host's network
 * and signals (not a boundary against hostile code: the host runs it only when a person
 * opted in with `--unsafe-agents`).
 */
export const workerIsolationSchema = z.enum(['bubblewrap', 'node_permission_model']);
export type WorkerIsolation = z.infer<typeof workerIsolationSchema>;

/** Whether workers under this isolation run without a jail (the `unsafe` mark on runs). */
export function isUnjailed(isolation: WorkerIsolation): boolean {
  return isolation !== 'bubblewrap';
}

/**
 * What the host tells about its agent workers (`GET /v1/health` `agents`; the desktop UI
 * shows the same): `jailed` — workers run in the jail; `unsafe` — they run without it
 * because a person allowed that (`--unsafe-agents`, `agents.allow_unjailed`); `refused` —
 * no jail works here and nobody allowed running without one, so no worker starts.
 */
export const agentIsolationStatusSchema = z
  .strictObject({
    status: z.enum(['jailed', 'unsafe', 'refused']),
    /** What workers run under; `none` when they are refused. */
    isolation: z.enum([...workerIsolationSchema.options, 'none']),
    /** Why the jail is not used (null when it is). */
    reason: z.string().nullable(),
    /** How to get the jail working here (null when it is). */
    fix: z.string().nullable(),
  })
  .meta({
    id: 'AgentIsolation',
    description: 'How agent workers are confined on this host, and what to do when they are not',
  });
export type AgentIsolationStatus = z.infer<typeof agentIsolationStatusSchema>;
