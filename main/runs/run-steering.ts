import type { Selectable } from 'kysely';
import type { Run } from '../../contracts/runs.ts';
import {
  INTERRUPT_WAITING_FOR,
  noteMessage,
  type DeliveredNote,
  type RunInterrupt,
  type RunInterruptInput,
  type RunNote,
  type RunNoteInput,
} from '../../contracts/steering.ts';
import { auditedBy, type ActorContext } from '../actor-context.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import { newId, type Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { RunNotesTable } from '../store/schema.ts';
import type { PayloadStore } from './payload-store.ts';
import type { RunService } from './run-service.ts';
import { isTerminal } from './transitions.ts';

/** The id prefix of the host's arrival notes (`addArrivalNoteIn`); a person's are `note_`. */
const ARRIVAL_NOTE_PREFIX = 'arrival';

/** Whether a note is the host's word of an arrived message rather than a person's. */
export function isArrivalNote(noteId: string): boolean {
  return noteId.startsWith(`${ARRIVAL_NOTE_PREFIX}_`);
}

/** A note waiting for the agent, and whether a person wrote it (it is their personal data). */
export type WaitingNote = DeliveredNote & { from_person: boolean };

export type RunSteeringDeps = {
  chain: CausalChain;
  clock: Clock;
  runs: RunService;
  payloads: PayloadStore;
  redactor: Redactor;
};

/**
 * A person steering a live run (issue 24): notes the agent reads at its next LLM step, and
 * interrupts that pause the run at its next step boundary. The HTTP edge records them; the
 * run's segment (main/supervisor/run-segment.ts) delivers and applies them, each in the
 * transaction of the step that meets them, so they hold across workers, crashes and hosts.
 */
export class RunSteering {
  readonly #deps: RunSteeringDeps;

  constructor(deps: RunSteeringDeps) {
    this.#deps = deps;
  }

  /**
   * Records a note for a run that has not ended. Its text is redacted before it is stored
   * (a person may paste a secret); the chain names it by digest, like every other input.
   */
  addNote(runId: string, input: RunNoteInput, ctx: ActorContext): Promise<RunNote> {
    return this.#deps.chain.transact(async (tx) => {
      const run = await this.#deps.runs.getIn(tx, runId);
      if (isTerminal(run.state)) {
        throw new AppError('RUN_ENDED', `run ${run.id} is ${run.state}: it reads no more notes`);
      }
      return this.#insertNoteIn(
        tx,
        run,
        newId('note'),
        this.#deps.redactor.redactString(input.text),
        ctx,
      );
    });
  }

  /**
   * Tells a run's agent, at its next LLM step, that its session got a message (issue 23): the
   * host's own words naming the envelope, in the caller's transaction (the one that routed
   * the message), delivered like a person's note so it holds across workers and crashes. Its
   * id marks it as the host's: only the host makes ids, so no caller can pass a person's
   * words off as one (context-window labels a person's note `pii.chat.message`, this not).
   */
  async addArrivalNoteIn(tx: ChainTx, run: Run, text: string, ctx: ActorContext): Promise<void> {
    await this.#insertNoteIn(tx, run, newId(ARRIVAL_NOTE_PREFIX), text, ctx);
  }

  /**
   * Stores a note waiting for delivery and names it on the chain by digest (its text goes to
   * the payload store, never into the entry). Whose words it is lies in its id alone.
   */
  async #insertNoteIn(
    tx: ChainTx,
    run: Run,
    id: string,
    text: string,
    ctx: ActorContext,
  ): Promise<RunNote> {
    const note: RunNote = {
      id,
      run_id: run.id,
      text,
      created_by: ctx.actor,
      created_at: this.#deps.clock.now().toISOString(),
      delivered_at: null,
      delivered_segment: null,
    };
    await tx.db.insertInto('run_notes').values(note).execute();
    const digest = await this.#deps.payloads.recordIn(tx, {
      run_id: run.id,
      step_id: note.id,
      kind: 'run.note',
      subject: ctx.actor,
      content: note.text,
    });
    await tx.append({
      event_type: 'run.note',
      ...auditedBy(ctx),
      session_id: run.session_id,
      run_id: run.id,
      data: { note_id: note.id, state: run.state, text: digest },
    });
    return note;
  }

  /** A run's notes, oldest first. */
  async notes(runId: string): Promise<RunNote[]> {
    const rows = await this.#deps.chain.transact((tx) =>
      tx.db
        .selectFrom('run_notes')
        .selectAll()
        .where('run_id', '=', runId)
        .orderBy('created_at')
        .orderBy('id')
        .execute(),
    );
    return rows.map(noteOf);
  }

  /**
   * Asks a running (or pending) run to pause at its next step boundary. A paused run has no
   * step to stop at: RUN_NOT_ACTIVE, so the person sees that nothing changed.
   */
  interrupt(runId: string, input: RunInterruptInput, ctx: ActorContext): Promise<RunInterrupt> {
    return this.#deps.chain.transact(async (tx) => {
      const run = await this.#deps.runs.getIn(tx, runId);
      if (isTerminal(run.state)) {
        throw new AppError('RUN_ENDED', `run ${run.id} is ${run.state}: there is nothing to stop`);
      }
      if (run.state !== 'running' && run.state !== 'pending') {
        throw new AppError(
          'RUN_NOT_ACTIVE',
          `run ${run.id} is ${run.state} already: it takes no step to interrupt`,
        );
      }
      const interrupt: RunInterrupt = {
        id: newId('int'),
        run_id: run.id,
        reason: input.reason === undefined ? null : this.#deps.redactor.redactString(input.reason),
        created_by: ctx.actor,
        created_at: this.#deps.clock.now().toISOString(),
        applied_at: null,
      };
      await tx.db.insertInto('run_interrupts').values(interrupt).execute();
      await tx.append({
        event_type: 'run.interrupt',
        ...auditedBy(ctx),
        session_id: run.session_id,
        run_id: run.id,
        data: { interrupt_id: interrupt.id, state: run.state, reason: interrupt.reason },
      });
      return interrupt;
    });
  }

  /**
   * Notes of the run not yet delivered, except those already handed to this segment's
   * worker (waiting for its checkpoint), as the user messages the model is to see.
   */
  async waitingNotesIn(
    tx: ChainTx,
    runId: string,
    handedOut: ReadonlySet<string>,
  ): Promise<WaitingNote[]> {
    const rows = await tx.db
      .selectFrom('run_notes')
      .selectAll()
      .where('run_id', '=', runId)
      .where('delivered_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows
      .filter((r) => !handedOut.has(r.id))
      .map((r) =>
        isArrivalNote(r.id)
          ? { id: r.id, message: r.text, from_person: false }
          : { id: r.id, message: noteMessage(r), from_person: true },
      );
  }

  /**
   * The worker checkpointed a conversation after it was handed `noteIds`: they are in its
   * state now, so no later segment gets them again. Only notes still waiting count.
   */
  async markDeliveredIn(
    tx: ChainTx,
    run: Run,
    noteIds: readonly string[],
    segment: number,
    actor: string,
  ): Promise<void> {
    if (noteIds.length === 0) return;
    const now = this.#deps.clock.now().toISOString();
    const marked = await tx.db
      .updateTable('run_notes')
      .set({ delivered_at: now, delivered_segment: segment })
      .where('run_id', '=', run.id)
      .where('id', 'in', noteIds)
      .where('delivered_at', 'is', null)
      .returning('id')
      .execute();
    if (marked.length === 0) return;
    await tx.append({
      event_type: 'run.note_delivered',
      actor,
      session_id: run.session_id,
      run_id: run.id,
      data: { note_ids: marked.map((m) => m.id), segment },
    });
  }

  /**
   * At a step boundary: when a person asked the run to stop, pause it (for a person's
   * resume) in the caller's transaction and return the error that ends the segment. The
   * caller returns it instead of throwing, so the pause commits and the step does not run.
   */
  async applyInterruptIn(tx: ChainTx, run: Run, actor: string): Promise<AppError | undefined> {
    const waiting = await tx.db
      .selectFrom('run_interrupts')
      .selectAll()
      .where('run_id', '=', run.id)
      .where('applied_at', 'is', null)
      .orderBy('created_at')
      .execute();
    const first = waiting[0];
    if (first === undefined) return undefined;
    await tx.db
      .updateTable('run_interrupts')
      .set({ applied_at: this.#deps.clock.now().toISOString() })
      .where('run_id', '=', run.id)
      .where('applied_at', 'is', null)
      .execute();
    const why = first.reason === null ? '' : `: ${first.reason}`;
    await this.#deps.runs.transitionIn(tx, run.id, 'paused_external_event', {
      actor,
      reason: `interrupted by ${first.created_by}${why}`.slice(0, 500),
      waiting_for: INTERRUPT_WAITING_FOR,
    });
    return new AppError('SEGMENT_ENDED', 'a person interrupted this run: checkpoint and exit');
  }
}

function noteOf(row: Selectable<RunNotesTable>): RunNote {
  return { ...row };
}
