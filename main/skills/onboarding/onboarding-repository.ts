import type { Kysely } from 'kysely';
import { z } from 'zod';
import { onboardingStateSchema, type OnboardingState } from '../../../contracts/skills.ts';
import type { Database, SkillOnboardingTable } from '../../store/schema.ts';

const completedSchema = z.array(z.strictObject({ id: z.string(), outcome: z.string() }));
const pendingSecretSchema = z.strictObject({ name: z.string(), temp: z.string() });

/** One skill's onboarding progress, parsed. */
export type OnboardingRecord = {
  skill_id: string;
  state: OnboardingState;
  /** Index of the next step to run. */
  step: number;
  /** Finished steps with what they did (`stored`, `secret_stored`, `answered`, `satisfied`). */
  completed: { id: string; outcome: string }[];
  pending_approval_id: string | null;
  /** The secret a pending `secret_write` approval would write, and the temporary name holding it. */
  pending_secret: { name: string; temp: string } | null;
  /** The internal run approvals hang on; null until setup is first started. */
  run_id: string | null;
  /** Why setup stopped (a denial, an error, a timeout); null while it can go on. */
  reason: string | null;
  /** When the current `wait_for` began: its deadline survives restarts. */
  step_started_at: string | null;
  /**
   * When the current `api_call` was sent, while its result is not recorded: set after a
   * restart means the host died mid-call and the call may have had its effect.
   */
  call_started_at: string | null;
};

/** Reads and writes `skill_onboarding` rows; the JSON columns are parsed here (an edge). */
export class OnboardingRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async get(skillId: string): Promise<OnboardingRecord | undefined> {
    const row = await this.#db
      .selectFrom('skill_onboarding')
      .selectAll()
      .where('skill_id', '=', skillId)
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async findByApproval(approvalId: string): Promise<OnboardingRecord | undefined> {
    const row = await this.#db
      .selectFrom('skill_onboarding')
      .selectAll()
      .where('pending_approval_id', '=', approvalId)
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async save(record: OnboardingRecord, now: string): Promise<void> {
    const row: SkillOnboardingTable = {
      ...record,
      completed: JSON.stringify(record.completed),
      pending_secret: record.pending_secret === null ? null : JSON.stringify(record.pending_secret),
      updated_at: now,
    };
    await this.#db
      .insertInto('skill_onboarding')
      .values(row)
      .onConflict((oc) => oc.column('skill_id').doUpdateSet(row))
      .execute();
  }
}

function fromRow(row: SkillOnboardingTable): OnboardingRecord {
  return {
    skill_id: row.skill_id,
    state: onboardingStateSchema.parse(row.state),
    step: row.step,
    completed: completedSchema.parse(JSON.parse(row.completed)),
    pending_approval_id: row.pending_approval_id,
    pending_secret:
      row.pending_secret === null
        ? null
        : pendingSecretSchema.parse(JSON.parse(row.pending_secret)),
    run_id: row.run_id,
    reason: row.reason,
    step_started_at: row.step_started_at,
    call_started_at: row.call_started_at,
  };
}
