import { z } from 'zod';
import { approvalDecisionInputSchema, approvalSchema, approvalStateSchema } from './approvals.ts';
import { chainEntrySchema, chainEventTypeSchema, chainVerifyResultSchema } from './chain.ts';
import { errorBodySchema } from './errors.ts';
import {
  createRunInputSchema,
  goalSchema,
  runEventInputSchema,
  runSchema,
  runStateSchema,
  stepSchema,
} from './runs.ts';
import { sessionSchema } from './sessions.ts';
import {
  skillIdSchema,
  skillListEntrySchema,
  skillOnboardingSchema,
  toolDefinitionSchema,
} from './skills.ts';
import { createTokenInputSchema, createdTokenSchema, tokenInfoSchema } from './tokens.ts';

/**
 * The gateway's HTTP API (ARCHITECTURE.md §5), declared once. The host builds its routes,
 * request validation and OpenAPI 3.1 document from these definitions, and the clients
 * (CLI, renderer) derive their request and response types from them.
 */

const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

const jsonBody = <S extends z.ZodType>(schema: S) => ({
  required: true,
  content: { 'application/json': { schema } },
});

/** Error responses every authenticated route may give. */
const errors = {
  400: json(errorBodySchema, 'invalid input: `error.details.fields` lists each field'),
  401: json(errorBodySchema, 'missing, unknown, revoked or expired token'),
  403: json(errorBodySchema, 'the token may not do this'),
  413: json(errorBodySchema, 'request body too large'),
  500: json(errorBodySchema, 'internal error (no details are given)'),
} as const;
const notFound = { 404: json(errorBodySchema, 'not found') } as const;
const conflict = { 409: json(errorBodySchema, 'conflict with the current state') } as const;

const idParam = (name: string) =>
  z.strictObject({ id: z.string().min(1).max(100).describe(`${name} id`) });

const limitQuery = z.coerce.number().int().min(1).max(1000).optional();

/** `Idempotency-Key`: letters, digits and `-_.:`, up to 200 characters. */
export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and -_.: only');

export const runDetailSchema = z.strictObject({
  run: runSchema,
  goals: z.array(goalSchema),
  pending_approvals: z.array(approvalSchema),
});
export type RunDetail = z.infer<typeof runDetailSchema>;

export const runListSchema = z.strictObject({
  runs: z.array(runSchema),
  /** Pass as `before` to get the next page; null on the last page. */
  next_before: z.string().nullable(),
});

export const chainPageSchema = z.strictObject({
  entries: z.array(chainEntrySchema),
  next_after_seq: z.number().int().nullable(),
});

export const healthSchema = z.strictObject({
  status: z.literal('ok'),
  version: z.string(),
  uptime_s: z.number(),
});

export const installSkillInputSchema = z
  .strictObject({
    /** A skill folder, `.tgz`, or `skill.yaml` / `skill.md` on this machine (absolute path). */
    path: z
      .string()
      .min(1)
      .max(4096)
      .regex(/^(\/|[A-Za-z]:[\\/])/, 'must be an absolute path on the host machine')
      .optional(),
    /** A `skill.md` / `skill.yaml` the host fetches (https; loopback http only when allowed). */
    url: z.string().min(1).max(4096).optional(),
    /** Compile a document that does not look like a skill (an HTML page); it must still pass the load contract. */
    force: z.boolean().optional(),
  })
  .refine((v) => (v.path === undefined) !== (v.url === undefined), {
    error: 'give exactly one of "path" and "url"',
  });

export const installSkillResultSchema = z.strictObject({
  skill: skillListEntrySchema,
  /** The version this install replaced, if any. */
  replaced_version: z.string().nullable(),
});

/** A skill's onboarding state, as setup routes return it. */
export const skillOnboardingResultSchema = z.strictObject({
  skill_id: skillIdSchema,
  onboarding: skillOnboardingSchema,
});

export const skillListSchema = z.strictObject({
  skills: z.array(skillListEntrySchema),
  /** The agent's tool list, derived from the same registry. */
  tools: z.array(toolDefinitionSchema),
});

export const secretNameSchema = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'UPPER_SNAKE_CASE, e.g. MOLTBOOK_API_KEY');

export const runActionInputSchema = z.strictObject({
  reason: z.string().min(1).max(2000).optional(),
});

/** One event on `GET /v1/events`; the SSE `id` is the chain `seq`, for `Last-Event-ID`. */
export const streamEventSchema = z.strictObject({
  seq: z.number().int().positive(),
  event_type: chainEventTypeSchema,
  timestamp: z.string(),
  session_id: z.string().nullable(),
  run_id: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
});
export type StreamEvent = z.infer<typeof streamEventSchema>;

/** Chain event types sent on the event stream. */
export const STREAMED_EVENT_TYPES = [
  'run.created',
  'run.transition',
  'approval.request',
  'approval.decision',
  'skill.loaded',
  'skill.unloaded',
  'skill.enabled',
  'skill.disabled',
  'skill.onboarding',
] as const satisfies readonly z.infer<typeof chainEventTypeSchema>[];

export const API = {
  health: {
    method: 'get',
    path: '/v1/health',
    summary: 'Liveness (no token needed)',
    responses: { 200: json(healthSchema, 'the host is up') },
  },
  createSession: {
    method: 'post',
    path: '/v1/sessions',
    summary: 'Create a session (a run may also create its own)',
    responses: { 201: json(sessionSchema, 'the new session'), ...errors },
  },
  getSession: {
    method: 'get',
    path: '/v1/sessions/{id}',
    summary: 'A session and its active run',
    request: { params: idParam('session') },
    responses: { 200: json(sessionSchema, 'the session'), ...errors, ...notFound },
  },
  createRun: {
    method: 'post',
    path: '/v1/runs',
    summary: 'Create a run from a goal; it starts by itself (no chat message needed)',
    request: {
      headers: z.object({ 'idempotency-key': idempotencyKeySchema.optional() }),
      body: jsonBody(createRunInputSchema),
    },
    responses: {
      201: json(runSchema, 'the new run'),
      200: json(runSchema, 'the run first created with this Idempotency-Key and body'),
      ...errors,
      ...notFound,
      409: json(
        errorBodySchema,
        'the session already has an active run, or the key was used with another body',
      ),
    },
  },
  listRuns: {
    method: 'get',
    path: '/v1/runs',
    summary: 'Runs, newest first',
    request: {
      query: z.strictObject({
        state: runStateSchema.optional(),
        session_id: z.string().max(100).optional(),
        limit: limitQuery,
        before: z.string().max(100).optional(),
      }),
    },
    responses: { 200: json(runListSchema, 'a page of runs'), ...errors },
  },
  getRun: {
    method: 'get',
    path: '/v1/runs/{id}',
    summary: 'A run: state, reason, budget, usage, goals and pending approvals',
    request: { params: idParam('run') },
    responses: { 200: json(runDetailSchema, 'the run'), ...errors, ...notFound },
  },
  cancelRun: {
    method: 'post',
    path: '/v1/runs/{id}/cancel',
    summary: 'Cancel a run that has not ended',
    request: {
      params: idParam('run'),
      body: { ...jsonBody(runActionInputSchema), required: false },
    },
    responses: { 200: json(runSchema, 'the cancelled run'), ...errors, ...notFound, ...conflict },
  },
  resumeRun: {
    method: 'post',
    path: '/v1/runs/{id}/resume',
    summary:
      'Resume a run paused for a schedule or an external event (approvals resume by decision)',
    request: {
      params: idParam('run'),
      body: { ...jsonBody(runActionInputSchema), required: false },
    },
    responses: {
      200: json(runSchema, 'the run, queued to resume'),
      ...errors,
      ...notFound,
      ...conflict,
    },
  },
  postRunEvent: {
    method: 'post',
    path: '/v1/runs/{id}/events',
    summary:
      'Deliver an external event; a run paused for exactly this event type is queued to resume (connector with events:post, or admin)',
    request: { params: idParam('run'), body: jsonBody(runEventInputSchema) },
    responses: {
      200: json(
        z.strictObject({ event_id: z.string(), resumed: z.boolean(), run: runSchema }),
        'the event was recorded; `resumed` says whether it woke the run',
      ),
      ...errors,
      ...notFound,
    },
  },
  listRunSteps: {
    method: 'get',
    path: '/v1/runs/{id}/steps',
    summary: "A run's steps",
    request: { params: idParam('run') },
    responses: {
      200: json(z.strictObject({ steps: z.array(stepSchema) }), 'the steps'),
      ...errors,
      ...notFound,
    },
  },
  listRunChain: {
    method: 'get',
    path: '/v1/runs/{id}/chain',
    summary: "A run's causal chain entries",
    request: {
      params: idParam('run'),
      query: z.strictObject({
        after_seq: z.coerce.number().int().min(0).optional(),
        limit: limitQuery,
      }),
    },
    responses: { 200: json(chainPageSchema, 'a page of entries'), ...errors, ...notFound },
  },
  listApprovals: {
    method: 'get',
    path: '/v1/approvals',
    summary: 'Approvals (pending by default) with their permission diff (admin)',
    request: {
      query: z.strictObject({
        state: approvalStateSchema.optional(),
        run_id: z.string().max(100).optional(),
        limit: limitQuery,
      }),
    },
    responses: {
      200: json(z.strictObject({ approvals: z.array(approvalSchema) }), 'approvals'),
      ...errors,
    },
  },
  getApproval: {
    method: 'get',
    path: '/v1/approvals/{id}',
    summary: 'One approval (admin)',
    request: { params: idParam('approval') },
    responses: { 200: json(approvalSchema, 'the approval'), ...errors, ...notFound },
  },
  decideApproval: {
    method: 'post',
    path: '/v1/approvals/{id}',
    summary: 'Approve, deny or modify the scope of a pending approval (admin); decisions are final',
    request: { params: idParam('approval'), body: jsonBody(approvalDecisionInputSchema) },
    responses: {
      200: json(
        z.strictObject({ approval: approvalSchema, run: runSchema }),
        'the decided approval and its run',
      ),
      ...errors,
      ...notFound,
      ...conflict,
    },
  },
  listTokens: {
    method: 'get',
    path: '/v1/tokens',
    summary: 'Tokens, without their secrets (admin)',
    responses: {
      200: json(z.strictObject({ tokens: z.array(tokenInfoSchema) }), 'tokens'),
      ...errors,
    },
  },
  createToken: {
    method: 'post',
    path: '/v1/tokens',
    summary: 'Create an admin or connector token (admin); the secret is shown only here',
    request: { body: jsonBody(createTokenInputSchema) },
    responses: { 201: json(createdTokenSchema, 'the token and its secret'), ...errors },
  },
  revokeToken: {
    method: 'delete',
    path: '/v1/tokens/{id}',
    summary: 'Revoke a token (admin)',
    request: { params: idParam('token') },
    responses: { 200: json(tokenInfoSchema, 'the revoked token'), ...errors, ...notFound },
  },
  verifyChain: {
    method: 'get',
    path: '/v1/chain/verify',
    summary: 'Verify the causal chain end to end (admin)',
    responses: {
      200: json(chainVerifyResultSchema, 'the result; ok:false names the first broken link'),
      ...errors,
    },
  },
  queryChain: {
    method: 'get',
    path: '/v1/chain',
    summary: 'Causal chain entries by run, type and time range (admin)',
    request: {
      query: z.strictObject({
        run_id: z.string().max(100).optional(),
        event_type: chainEventTypeSchema.optional(),
        since: z.string().max(40).optional(),
        until: z.string().max(40).optional(),
        after_seq: z.coerce.number().int().min(0).optional(),
        limit: limitQuery,
      }),
    },
    responses: { 200: json(chainPageSchema, 'a page of entries'), ...errors },
  },
  listSkills: {
    method: 'get',
    path: '/v1/skills',
    summary:
      'Installed skills with their operations, input schemas and permissions, and the tool list',
    responses: { 200: json(skillListSchema, 'skills and tools'), ...errors },
  },
  installSkill: {
    method: 'post',
    path: '/v1/skills',
    summary:
      'Install or upgrade a skill from a folder, a .tgz, or a declarative skill.yaml / skill.md (a path, or a URL the host fetches) (admin); the response lists the permissions it was granted',
    request: { body: jsonBody(installSkillInputSchema) },
    responses: {
      201: json(installSkillResultSchema, 'the installed skill'),
      ...errors,
      422: json(
        errorBodySchema,
        'the skill was rejected; the message names the file, the field and the fix',
      ),
    },
  },
  getSkill: {
    method: 'get',
    path: '/v1/skills/{id}',
    summary: 'One installed skill',
    request: { params: z.strictObject({ id: skillIdSchema }) },
    responses: { 200: json(skillListEntrySchema, 'the skill'), ...errors, ...notFound },
  },
  unloadSkill: {
    method: 'delete',
    path: '/v1/skills/{id}',
    summary: 'Unload and uninstall a skill (admin)',
    request: { params: z.strictObject({ id: skillIdSchema }) },
    responses: {
      200: json(z.strictObject({ skill_id: z.string() }), 'removed'),
      ...errors,
      ...notFound,
    },
  },
  startSkillOnboarding: {
    method: 'post',
    path: '/v1/skills/{id}/onboarding',
    summary:
      "Start (or retry) a skill's setup: the host runs its onboarding steps until one needs a person (admin)",
    request: { params: z.strictObject({ id: skillIdSchema }) },
    responses: {
      200: json(skillOnboardingResultSchema, 'the onboarding state reached'),
      ...errors,
      ...notFound,
    },
  },
  pollSkillOnboarding: {
    method: 'post',
    path: '/v1/skills/{id}/onboarding/poll',
    summary: 'Check a waiting setup step now instead of at its next poll (admin)',
    request: { params: z.strictObject({ id: skillIdSchema }) },
    responses: {
      200: json(skillOnboardingResultSchema, 'the onboarding state reached'),
      ...errors,
      ...notFound,
    },
  },
  enableSkill: {
    method: 'post',
    path: '/v1/skills/{id}/enable',
    summary: 'Enable a skill (admin)',
    request: { params: z.strictObject({ id: skillIdSchema }) },
    responses: { 200: json(skillListEntrySchema, 'the skill'), ...errors, ...notFound },
  },
  disableSkill: {
    method: 'post',
    path: '/v1/skills/{id}/disable',
    summary: 'Disable a skill: its operations leave the tool list (admin)',
    request: { params: z.strictObject({ id: skillIdSchema }) },
    responses: { 200: json(skillListEntrySchema, 'the skill'), ...errors, ...notFound },
  },
  listSecrets: {
    method: 'get',
    path: '/v1/secrets',
    summary: 'Names of stored secrets, never their values (admin)',
    responses: {
      200: json(z.strictObject({ names: z.array(z.string()) }), 'secret names'),
      ...errors,
    },
  },
  putSecret: {
    method: 'put',
    path: '/v1/secrets/{name}',
    summary: 'Store or replace a secret (admin); it is encrypted at rest and never shown again',
    request: {
      params: z.strictObject({ name: secretNameSchema }),
      body: jsonBody(z.strictObject({ value: z.string().min(1).max(16_384) })),
    },
    responses: { 200: json(z.strictObject({ name: z.string() }), 'stored'), ...errors },
  },
  deleteSecret: {
    method: 'delete',
    path: '/v1/secrets/{name}',
    summary: 'Delete a secret (admin)',
    request: { params: z.strictObject({ name: secretNameSchema }) },
    responses: {
      200: json(z.strictObject({ name: z.string() }), 'deleted'),
      ...errors,
      ...notFound,
    },
  },
  events: {
    method: 'get',
    path: '/v1/events',
    summary:
      'Server-sent events: run transitions and approvals; each `id` is a chain seq, resume with `Last-Event-ID`',
    request: {
      headers: z.object({
        'last-event-id': z
          .string()
          .regex(/^\d{1,15}$/)
          .optional(),
      }),
    },
    responses: {
      200: {
        description: 'an event stream; each `data` is a StreamEvent as JSON',
        content: { 'text/event-stream': { schema: z.string() } },
      },
      ...errors,
    },
  },
} as const;

export type ApiRouteName = keyof typeof API;
