import { TERMINAL_STATES } from '../../contracts/runs.ts';
import { sessionSchema, type Session } from '../../contracts/sessions.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import { newId, type Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { Kysely } from 'kysely';
import type { Database, Db } from '../store/schema.ts';
import type { ActorContext } from '../actor-context.ts';
import { auditedBy } from '../actor-context.ts';

export type SessionOrigin = Session['origin'];

/**
 * Sessions: the unit a run is bound to (CHAT-SECURITY-CONTRACT.md, last section). A
 * session has at most one active run; RunService enforces that when it creates one.
 */
export class SessionService {
  readonly #deps: { db: Db; chain: CausalChain; clock: Clock };

  constructor(deps: { db: Db; chain: CausalChain; clock: Clock }) {
    this.#deps = deps;
  }

  create(origin: SessionOrigin, ctx: ActorContext): Promise<Session> {
    return this.#deps.chain.transact((tx) => this.createIn(tx, origin, ctx));
  }

  async createIn(tx: ChainTx, origin: SessionOrigin, ctx: ActorContext): Promise<Session> {
    const session: Session = {
      id: newId('ses'),
      origin,
      state: 'active',
      created_at: this.#deps.clock.now().toISOString(),
      owner: ctx.actor,
      active_run_id: null,
    };
    await tx.db
      .insertInto('sessions')
      .values({
        id: session.id,
        origin,
        state: session.state,
        created_at: session.created_at,
        owner: session.owner,
      })
      .execute();
    await tx.append({
      event_type: 'session.created',
      ...auditedBy(ctx),
      session_id: session.id,
      data: { origin },
    });
    return session;
  }

  get(id: string): Promise<Session> {
    return readSession(this.#deps.db, id);
  }

  /** `get` inside a caller's transaction. */
  getIn(tx: ChainTx, id: string): Promise<Session> {
    return readSession(tx.db, id);
  }
}

async function readSession(db: Kysely<Database>, id: string): Promise<Session> {
  const row = await db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) throw new AppError('NOT_FOUND', `session ${id} not found`);
  const active = await db
    .selectFrom('runs')
    .select('id')
    .where('session_id', '=', id)
    .where('state', 'not in', TERMINAL_STATES)
    .executeTakeFirst();
  // Every row has an owner since migration 0030; `host` is its fallback there too.
  return sessionSchema.parse({
    ...row,
    owner: row.owner ?? 'host',
    active_run_id: active?.id ?? null,
  });
}
