import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isTerminalState,
  runStateSchema,
  TERMINAL_STATES,
  type RunState,
} from '../../../contracts/runs.ts';
import { isAppError } from '../../../main/errors.ts';
import {
  assertTransition,
  isTerminal,
  STATES_NEEDING_REASON,
} from '../../../main/runs/transitions.ts';
import { openTestServices, type TestServices } from '../../support/test-store.ts';

const STATES = runStateSchema.options;

/**
 * The expected table, written out independently of TRANSITIONS so a change to the table
 * has to be made here too. `running` is a live worker segment; every resume goes back
 * through `pending`, where the supervisor starts the next segment.
 */
const LEGAL: Readonly<Record<RunState, readonly RunState[]>> = {
  pending: ['running', 'cancelled', 'failed'],
  running: [
    'pending',
    'paused_approval',
    'paused_external_event',
    'paused_schedule',
    'done',
    'failed',
    'cancelled',
  ],
  paused_approval: ['pending', 'cancelled', 'failed'],
  paused_external_event: ['pending', 'cancelled', 'failed'],
  paused_schedule: ['pending', 'cancelled', 'failed'],
  done: [],
  failed: [],
  cancelled: [],
};

const PAIRS = STATES.flatMap((from) => STATES.map((to) => ({ from, to })));
const LEGAL_PAIRS = PAIRS.filter(({ from, to }) => LEGAL[from].includes(to));
const ILLEGAL_PAIRS = PAIRS.filter(({ from, to }) => !LEGAL[from].includes(to));

/** A reason whenever the target needs one, so only legality is under test. */
const reasonFor = (to: RunState): string | null =>
  STATES_NEEDING_REASON.includes(to) ? `because ${to}` : null;

/** What a transition to `to` must carry: its reason, and the awaited event for an event pause. */
const optionsFor = (to: RunState) => ({
  actor: 'test',
  reason: reasonFor(to),
  ...(to === 'paused_external_event' ? { waiting_for: 'test.event' } : {}),
});

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('assertTransition: the full 8×8 table', () => {
  it('covers 64 pairs: 19 legal, 45 illegal', () => {
    expect(PAIRS).toHaveLength(64);
    expect(LEGAL_PAIRS).toHaveLength(19);
    expect(ILLEGAL_PAIRS).toHaveLength(45);
  });

  it.each(LEGAL_PAIRS)('$from -> $to is legal', ({ from, to }) => {
    expect(() => {
      assertTransition(from, to, reasonFor(to));
    }).not.toThrow();
  });

  it.each(ILLEGAL_PAIRS)('$from -> $to throws ILLEGAL_TRANSITION', ({ from, to }) => {
    const error = errorOf(() => {
      assertTransition(from, to, reasonFor(to));
    });
    expect(isAppError(error, 'ILLEGAL_TRANSITION')).toBe(true);
    expect(error).toMatchObject({ details: { from, to } });
  });

  it('terminal states are exactly done, failed, cancelled and go nowhere, not even to themselves', () => {
    expect(STATES.filter(isTerminal)).toEqual([...TERMINAL_STATES]);
    for (const from of TERMINAL_STATES) {
      for (const to of STATES) {
        const error = errorOf(() => {
          assertTransition(from, to, 'a reason');
        });
        expect(isAppError(error, 'ILLEGAL_TRANSITION'), `${from} -> ${to}`).toBe(true);
        expect((error as Error).message).toContain('final');
      }
    }
  });

  it.each(['paused_approval', 'paused_external_event', 'paused_schedule', 'failed'] as const)(
    'running -> %s needs a non-blank reason',
    (to) => {
      for (const reason of [null, '', '   ']) {
        const error = errorOf(() => {
          assertTransition('running', to, reason);
        });
        expect(isAppError(error, 'INVALID_INPUT'), JSON.stringify(reason)).toBe(true);
      }
      expect(() => {
        assertTransition('running', to, 'waiting for a person');
      }).not.toThrow();
    },
  );

  it('states other than paused and failed need no reason', () => {
    for (const { from, to } of LEGAL_PAIRS.filter((p) => !STATES_NEEDING_REASON.includes(p.to))) {
      expect(() => {
        assertTransition(from, to, null);
      }).not.toThrow();
    }
  });
});

describe('assertTransition for an external run (an MCP session’s)', () => {
  it('may end done from every unfinished state, which a worker run may not', () => {
    for (const from of STATES.filter((s) => !isTerminal(s))) {
      expect(() => {
        assertTransition(from, 'done', 'mcp_session_closed: the host restarted', 'external');
      }, from).not.toThrow();
      if (from !== 'running')
        expect(
          isAppError(
            errorOf(() => {
              assertTransition(from, 'done', 'a reason', 'worker');
            }),
            'ILLEGAL_TRANSITION',
          ),
          from,
        ).toBe(true);
    }
  });

  it('follows the table otherwise: a finished one goes nowhere, a pending one still not to paused', () => {
    for (const from of TERMINAL_STATES) {
      const error = errorOf(() => {
        assertTransition(from, 'done', 'a reason', 'external');
      });
      expect(isAppError(error, 'ILLEGAL_TRANSITION'), from).toBe(true);
    }
    const error = errorOf(() => {
      assertTransition('pending', 'paused_approval', 'a reason', 'external');
    });
    expect(isAppError(error, 'ILLEGAL_TRANSITION')).toBe(true);
  });
});

describe('RunService.transition on a real database', () => {
  let services: TestServices;
  beforeAll(async () => {
    services = await openTestServices();
  });
  afterAll(async () => {
    await services.close();
  });

  const PATH_TO: Readonly<Record<RunState, readonly RunState[]>> = {
    pending: [],
    running: ['running'],
    paused_approval: ['running', 'paused_approval'],
    paused_external_event: ['running', 'paused_external_event'],
    paused_schedule: ['running', 'paused_schedule'],
    done: ['running', 'done'],
    failed: ['failed'],
    cancelled: ['cancelled'],
  };

  async function runInState(state: RunState): Promise<string> {
    const run = await services.runs.create({ goal: `reach ${state}` }, { actor: 'test' });
    for (const to of PATH_TO[state]) {
      await services.runs.transition(run.id, to, optionsFor(to));
    }
    return run.id;
  }

  async function snapshot(runId: string): Promise<unknown> {
    const row = await services.store.db
      .selectFrom('runs')
      .selectAll()
      .where('id', '=', runId)
      .executeTakeFirstOrThrow();
    const chain = await services.store.db.selectFrom('chain').selectAll().orderBy('seq').execute();
    return { row, chain };
  }

  it.each(STATES)('every illegal move out of %s throws and changes nothing', async (from) => {
    const runId = await runInState(from);
    expect((await services.runs.get(runId)).state).toBe(from);
    const before = await snapshot(runId);
    for (const { to } of ILLEGAL_PAIRS.filter((p) => p.from === from)) {
      const error: unknown = await services.runs.transition(runId, to, optionsFor(to)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isAppError(error, 'ILLEGAL_TRANSITION'), `${from} -> ${to}`).toBe(true);
      expect(await snapshot(runId)).toEqual(before);
    }
  });

  it.each(LEGAL_PAIRS)(
    '$from -> $to updates the row and appends one entry',
    async ({ from, to }) => {
      const runId = await runInState(from);
      const { entries: before } = await services.chain.query({ run_id: runId });
      const after = await services.runs.transition(runId, to, optionsFor(to));
      expect(after.state).toBe(to);
      expect(await services.runs.get(runId)).toEqual(after);
      const { entries } = await services.chain.query({ run_id: runId });
      expect(entries).toHaveLength(before.length + 1);
      expect(entries.at(-1)).toMatchObject({
        event_type: 'run.transition',
        data: { from, to, reason: reasonFor(to) },
      });
    },
  );

  it('a missing reason for paused or failed is refused and changes nothing', async () => {
    const runId = await runInState('running');
    const before = await snapshot(runId);
    for (const to of STATES_NEEDING_REASON) {
      await expect(services.runs.transition(runId, to, { actor: 'test' })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      expect(await snapshot(runId)).toEqual(before);
    }
  });

  it('an unknown run is NOT_FOUND and appends nothing', async () => {
    const { entries } = await services.chain.verify();
    await expect(
      services.runs.transition('run_missing', 'running', { actor: 'test' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await services.chain.verify()).entries).toBe(entries);
  });
});

describe('isTerminalState', () => {
  it('holds for exactly the states a run never leaves, and for no other value', () => {
    expect(STATES.filter((s) => isTerminalState(s))).toEqual(['done', 'failed', 'cancelled']);
    // Chain entry data is not parsed as a RunState: anything else is simply not terminal.
    for (const other of ['DONE', 'done ', '', null, undefined, 3, { to: 'done' }, ['done']])
      expect(isTerminalState(other)).toBe(false);
  });
});
