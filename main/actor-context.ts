/** Who is acting, for the audit trail: an actor name and the request's correlation id. */
export type ActorContext = {
  actor: string;
  correlation_id?: string | null;
};

/** The fields every chain entry caused by `ctx` carries. */
export function auditedBy(ctx: ActorContext): { actor: string; correlation_id: string | null } {
  return { actor: ctx.actor, correlation_id: ctx.correlation_id ?? null };
}
