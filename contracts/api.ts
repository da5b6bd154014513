import { z } from 'zod';
import { agentLimitsInputSchema, agentsStatusSchema, pauseAgentsInputSchema } from './agents.ts';
import { approvalDecisionInputSchema, approvalSchema, approvalStateSchema } from './approvals.ts';
import { agentIsolationStatusSchema } from './agent-isolation.ts';
import { chainEntrySchema, chainEventTypeSchema, chainVerifyResultSchema } from './chain.ts';
import { chatConversationQuerySchema, chatConversationSchema } from './chat.ts';
import { connectorRecordSchema, putConnectorInputSchema } from './connectors.ts';
// --- inbound connectors (issue 23) ---
import {
  adapterConfigInputSchema,
  adapterConfigResultSchema,
  adapterConfigSchema,
  connectionSchema,
  connectorHealthSchema,
  inboundResultSchema,
  localChatMessageInputSchema,
} from './connector-adapter.ts';
import { errorBodySchema } from './errors.ts';
import { externalIdSchema } from './message-envelope.ts';
import { grantListSchema, grantSchema, grantStateSchema } from './grants.ts';
import { purgeResultSchema, transcriptSchema } from './payloads.ts';
import {
  continueRunInputSchema,
  createRunInputSchema,
  goalSchema,
  runEventInputSchema,
  runFailureSchema,
  runSchema,
  runStateSchema,
  stepSchema,
} from './runs.ts';
import {
  createScheduleInputSchema,
  scheduleDetailSchema,
  scheduleFireSchema,
  scheduleSchema,
  scheduleStateSchema,
  updateScheduleInputSchema,
} from './schedules.ts';
import { sessionSchema } from './sessions.ts';
import {
  runInterruptInputSchema,
  runInterruptSchema,
  runNoteInputSchema,
  runNoteListSchema,
  runNoteSchema,
} from './steering.ts';
import {
  autofillGrantSchema,
  skillIdSchema,
  skillListEntrySchema,
  skillOnboardingSchema,
  toolDefinitionSchema,
} from './skills.ts';
import {
  connectorIdSchema,
  createTokenInputSchema,
  createdTokenSchema,
  tokenInfoSchema,
} from './tokens.ts';
import { policyPackDetailSchema, policyPackListSchema } from './policy.ts';
import {
  memoryItemSchema,
  memoryListQuerySchema,
  memoryListSchema,
  memoryPurgeRequestSchema,
  memoryPurgeResultSchema,
} from './memory.ts';
import { hostInfoSchema, llmTestResultSchema, loginLinkSchema, uiSessionInfoSchema } from './ui.ts';
// --- outbox admin (issue 23) ---
import {
  outboxActionResultSchema,
  outboxListQuerySchema,
  outboxListSchema,
  outboxMessageDetailSchema,
  outboxPruneInputSchema,
  outboxPruneResultSchema,
  outboxRetryInputSchema,
} from './outbox.ts';

/**
 * The gateway's HTTP API (ARCHITECTURE.md §5), declared once. The host builds its routes,
 * request validation and OpenAPI 3.1 document from these definitions, and the clients
 * (CLI, renderer) derive their request and response types from them.
 */

/**
 * Schemas the OpenAPI document names in `components.schemas` (zod's `meta({ id })`), so a
 * generated client gets one `Run` type instead of an inlined copy per route.
 */
const named = <S extends z.ZodType>(schema: S, id: string, description: string): S =>
  schema.meta({ id, description });
const ErrorBody = named(
  errorBodySchema,
  'Error',
  'Every error: a stable `code`, a message, and for INVALID_INPUT the bad fields in `details.fields`',
);
const Run = named(runSchema, 'Run', 'A run: its state, budget, usage and policy pack');
const RunNote = named(runNoteSchema, 'RunNote', "A person's note to a run's agent");
const RunInterrupt = named(
  runInterruptSchema,
  'RunInterrupt',
  'A request that a run pause at its next step boundary',
);
const Goal = named(goalSchema, 'Goal', 'One goal of a run and whether its predicate holds');
const Step = named(stepSchema, 'Step', 'One step of a run (an LLM call or a tool call)');
const Approval = named(
  approvalSchema,
  'Approval',
  'Something an agent asks a person to decide, with the permissions it would grant',
);
const Grant = named(
  grantSchema,
  'Grant',
  'A standing approval: later calls of one operation, under the permission diff a person approved, in its scope, until it is used up, expires or is revoked',
);
const Session = named(sessionSchema, 'Session', 'A session: the unit a run is bound to');
const ChainEntry = named(chainEntrySchema, 'ChainEntry', 'One entry of the causal chain');
const ChainVerifyResult = named(
  chainVerifyResultSchema,
  'ChainVerifyResult',
  'The result of verifying the chain: ok, or the first broken link',
);
const Skill = named(
  skillListEntrySchema,
  'Skill',
  'An installed skill: its operations with their schemas, and what it may reach',
);
const AutofillGrant = named(
  autofillGrantSchema,
  'AutofillGrant',
  "An input field an operation may be handed from the run's context, and from where",
);
const ToolDefinition = named(
  toolDefinitionSchema,
  'ToolDefinition',
  "One tool of the agent's tool list",
);
const AgentsStatus = named(
  agentsStatusSchema,
  'AgentsStatus',
  'The host-wide kill switch and caps over every run, and what they hold back now',
);
const TokenInfo = named(tokenInfoSchema, 'TokenInfo', 'A token, without its secret');
const Transcript = named(
  transcriptSchema,
  'Transcript',
  "A page of a run's payloads, each with the digest the chain holds",
);
const Schedule = named(
  scheduleSchema,
  'Schedule',
  'A schedule: its trigger, its target (start a run or resume one), its policies and its next fire',
);
const ScheduleFire = named(
  scheduleFireSchema,
  'ScheduleFire',
  'One fire of a schedule: the instant, when it was claimed, and what became of it',
);
const ScheduleDetail = named(
  scheduleDetailSchema,
  'ScheduleDetail',
  'A schedule with its next five fire times and its recent fires',
);
const ConnectorRecord = named(
  connectorRecordSchema,
  'ConnectorRecord',
  "What a connector's runs may use: policy packs and budget caps",
);

const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

const jsonBody = <S extends z.ZodType>(schema: S, example?: z.input<S>) => ({
  required: true,
  content: { 'application/json': { schema, ...(example === undefined ? {} : { example }) } },
});

/** Error responses every authenticated route may give. */
const errors = {
  400: json(ErrorBody, 'invalid input: `error.details.fields` lists each field'),
  401: json(ErrorBody, 'missing, unknown, revoked or expired token'),
  403: json(
    ErrorBody,
    'the token may not do this, or the request came from another host or origin',
  ),
  413: json(ErrorBody, 'request body too large'),
  500: json(ErrorBody, 'internal error (no details are given)'),
} as const;
/** Routes that take a JSON body also refuse other content types. */
const bodyErrors = {
  ...errors,
  415: json(ErrorBody, 'the body is not sent as application/json'),
} as const;
const notFound = { 404: json(ErrorBody, 'not found') } as const;
const conflict = { 409: json(ErrorBody, 'conflict with the current state') } as const;

const idParam = (name: string) =>
  z.strictObject({ id: z.string().min(1).max(100).describe(`${name} id`) });

const limitQuery = z.coerce.number().int().min(1).max(1000).optional();

/** `Idempotency-Key`: letters, digits and `-_.:`, up to 200 characters. */
export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and -_.: only');

export const runDetailSchema = z
  .strictObject({
    run: Run,
    goals: z.array(Goal),
    pending_approvals: z.array(Approval),
    /**
     * The run's most recent failure, kept after the run moved on: a segment whose worker
     * crashed, hung or broke the protocol (with the error the worker handed over, redacted),
     * or an LLM call that failed. Null when nothing has failed.
     */
    last_failure: runFailureSchema.nullable(),
  })
  .meta({
    id: 'RunDetail',
    description: 'A run with its goals, pending approvals and its last failure',
  });
export type RunDetail = z.infer<typeof runDetailSchema>;

export const runListSchema = z.strictObject({
  runs: z.array(Run),
  /** Pass as `before` to get the next page; null on the last page. */
  next_before: z.string().nullable(),
});

export const chainPageSchema = z.strictObject({
  entries: z.array(ChainEntry),
  next_after_seq: z.number().int().nullable(),
});

export const healthSchema = z.strictObject({
  status: z.literal('ok'),
  version: z.string(),
  uptime_s: z.number(),
  /** How agent workers are confined: jailed, unsafe (opted in without a jail) or refused. */
  agents: agentIsolationStatusSchema,
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
    /** From `POST /v1/skills/inspect`: install only if the skill is still exactly what was shown. */
    consent_digest: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
  })
  .refine((v) => (v.path === undefined) !== (v.url === undefined), {
    error: 'give exactly one of "path" and "url"',
  });

/** What a skill would be given, checked by the whole load contract, before it is installed. */
export const inspectedSkillSchema = z.strictObject({
  skill: Skill.pick({
    skill_id: true,
    version: true,
    name: true,
    description: true,
    operations: true,
    permissions: true,
  }),
  /** Pass as `consent_digest` to install exactly this (manifest and code). */
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  /** What the skill's operations may be handed from the run's context (part of the consent). */
  autofill: z.array(AutofillGrant),
});

export const installSkillResultSchema = z.strictObject({
  skill: Skill,
  /** The version this install replaced, if any. */
  replaced_version: z.string().nullable(),
  /** What the skill's operations may be handed from the run's context (part of the consent). */
  autofill: z.array(AutofillGrant),
});

/** A skill's onboarding state, as setup routes return it. */
export const skillOnboardingResultSchema = z.strictObject({
  skill_id: skillIdSchema,
  onboarding: skillOnboardingSchema,
});

export const skillListSchema = z.strictObject({
  skills: z.array(Skill),
  /** The agent's tool list, derived from the same registry. */
  tools: z.array(ToolDefinition),
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
  'segment.started',
  'segment.ended',
  'llm.call',
  'skill.execute',
  'checkpoint',
  'budget.warning',
  'budget.exceeded',
  'budget.granted',
  'approval.request',
  'approval.decision',
  'grant.created',
  'grant.used',
  'grant.revoked',
  'skill.loaded',
  'skill.unloaded',
  'skill.enabled',
  'skill.disabled',
  'skill.onboarding',
  'schedule.created',
  'schedule.updated',
  'schedule.deleted',
  'schedule.fired',
  'schedule.missed',
  // --- ui-memory (issue 24) ---
  // The Memory page refreshes on these. A non-admin stream sees only entries of its own runs:
  // a memory.write there (key and namespace, never the value) is already on that run's chain,
  // and the person's deletes and purges name no run, so they reach admins only.
  'memory.write',
  'memory.deleted',
  'memory.purged',
  // --- outbox wiring (issue 23) ---
  // A local chat delivery: admins (the UI) and that connector's own token only; the frame
  // adds the message's text from its outbox row (the chain entry holds a digest).
  'message.outbound',
  // --- outbox admin (issue 23) ---
  // The outbox page refreshes on these; digests and ids only, never a message's text.
  'outbox.queued',
  'outbox.admin',
  // --- ui-outbox (issue 24) ---
  // Each attempt's end (ids, status, category; no text, no channel), so the Outbox page sees a
  // message delivered or dead-lettered live. A run's owner sees its runs' entries only, as for
  // `outbox.queued`, which already names more (the channel).
  'outbound.attempt',
  // --- ui-connectors (issue 24) ---
  // The Connectors page refreshes on these. None names a run, so they reach admins only: a
  // connector's own token never sees another connector's setup or a channel's id.
  'connector.adapter_set',
  'connector.adapter_removed',
  'connection.decided',
] as const satisfies readonly z.infer<typeof chainEventTypeSchema>[];

// --- inbound connectors (issue 23) ---
/**
 * The inbound connector routes. A const of their own: one object with every route grows past
 * what the compiler serialises into a declaration (TS7056), so `API` joins typed parts.
 */
const CONNECTOR_INBOUND_ROUTES = {
  connectorInbound: {
    method: 'post',
    path: '/v1/connectors/{id}/inbound',
    summary: "A connector's inbound message (its own proof, not a token; quarantined)",
    description:
      'What a webhook sender posts: a JSON message `{id, channel_id, chat_type, sender_id, thread_id?, reply_to?, sent_at?, text, mentions?, attachments?}`. Proven by `x-ccos-timestamp` and `x-ccos-signature: sha256=<hmac>` over `<timestamp>.<body>` (each signature once, within the replay window) or by `Authorization: Bearer <secret>`, as the connector is configured. The text goes into the quarantine; the answer says what became of the message. A new channel waits for a `channel` approval; a second delivery of the same `id` is a `duplicate`. Every refusal is a `message.rejected` chain entry naming its rule.',
    security: [] as Record<string, string[]>[],
    request: { params: z.strictObject({ id: connectorIdSchema.describe('connector id') }) },
    responses: {
      202: json(inboundResultSchema, 'accepted: what became of the message'),
      ...errors,
      ...notFound,
    },
  },
  listConnectorAdapters: {
    method: 'get',
    path: '/v1/connector-adapters',
    summary: "Every connector's adapter configuration (admin)",
    description:
      'Adapter, inbound proof, activation rules and run template of each connector; never a secret.',
    responses: {
      200: json(z.strictObject({ adapters: z.array(adapterConfigSchema) }), 'configurations'),
      ...errors,
    },
  },
  getConnectorAdapter: {
    method: 'get',
    path: '/v1/connectors/{id}/adapter',
    summary: "A connector's adapter, its health and its channel connections (admin)",
    description:
      'The configuration (never its secret), whether the adapter can serve it now (a failure names its category: auth, network, rate_limit, invalid), and its channels with their approval state.',
    request: { params: z.strictObject({ id: connectorIdSchema.describe('connector id') }) },
    responses: {
      200: json(
        z.strictObject({
          config: adapterConfigSchema,
          health: connectorHealthSchema,
          connections: z.array(connectionSchema),
        }),
        'the adapter',
      ),
      ...errors,
      ...notFound,
    },
  },
  putConnectorAdapter: {
    method: 'put',
    path: '/v1/connectors/{id}/adapter',
    summary: "Configure a connector's adapter (admin); a new secret is shown once",
    description:
      'Creates or replaces the adapter configuration. For `hmac` and `bearer` a 256-bit secret is made the first time (or with `?rotate=true`) and returned only in that answer; it lives in the secret store.',
    request: {
      params: z.strictObject({ id: connectorIdSchema.describe('connector id') }),
      query: z.strictObject({ rotate: z.enum(['true', 'false']).optional() }),
      body: jsonBody(adapterConfigInputSchema, {
        adapter: 'webhook',
        inbound_auth: { mode: 'hmac', replay_window_ms: 300_000 },
        activation: { mention_names: ['ccos'], keywords: [], group_sender_allowlist: ['u-1'] },
        template: { goal: 'Answer the message', budget: { max_steps: 20 } },
      }),
    },
    responses: { 200: json(adapterConfigResultSchema, 'the configuration'), ...bodyErrors },
  },
  deleteConnectorAdapter: {
    method: 'delete',
    path: '/v1/connectors/{id}/adapter',
    summary: "Remove a connector's adapter and its secret (admin)",
    description:
      'Its inbound endpoint refuses everything after this; its connections and messages stay for the audit trail.',
    request: { params: z.strictObject({ id: connectorIdSchema.describe('connector id') }) },
    responses: {
      200: json(z.strictObject({ removed: z.literal(true) }), 'removed'),
      ...errors,
      ...notFound,
    },
  },
  testConnectorAdapter: {
    method: 'post',
    path: '/v1/connectors/{id}/adapter/test',
    summary: "Check a connector's adapter end to end without storing anything (admin)",
    description:
      "The host signs a sample message with the connector's secret as a sender would and runs the adapter's proof check, parse and activation on it; nothing is stored, routed or quarantined.",
    request: { params: z.strictObject({ id: connectorIdSchema.describe('connector id') }) },
    responses: {
      200: json(
        z.strictObject({
          health: connectorHealthSchema,
          checks: z.array(
            z.strictObject({ check: z.string(), ok: z.boolean(), detail: z.string().nullable() }),
          ),
        }),
        'what passed',
      ),
      ...errors,
      ...notFound,
    },
  },
  postChatMessage: {
    method: 'post',
    path: '/v1/chat/messages',
    summary: "The person's message from the local chat (admin or UI session)",
    description:
      'The desktop chat panel posts here. The sender is the person (integrity `trusted`), the text is still `pii.chat.message` and quarantined like any channel; the same channel approval, duplicate and routing rules apply.',
    request: {
      query: z.strictObject({
        connector: connectorIdSchema.default('local-chat').describe('the local chat connector'),
      }),
      body: jsonBody(localChatMessageInputSchema, { id: 'ui-1', text: 'hello' }),
    },
    responses: { 202: json(inboundResultSchema, 'accepted'), ...bodyErrors, ...notFound },
  },
} as const;

// --- ui-chat (issue 24) ---
/** The Chat page's read side: a local chat channel's history, so a reload shows it. */
const CHAT_ROUTES = {
  getChatConversation: {
    method: 'get',
    path: '/v1/chat/conversations/{channel}',
    summary:
      "A local chat channel's messages and the agent's replies, oldest first (admin or UI session)",
    description:
      "The person's own messages (their text read back from the quarantine, each page one audited `quarantine.access`) and the replies queued to the channel, with each one's delivery state and run. Only a local chat connector (`person` proof): another connector's raw messages never leave the quarantine through the API. Pages with `after` = `next_cursor`.",
    request: {
      params: z.strictObject({ channel: externalIdSchema.describe('the channel id') }),
      query: chatConversationQuerySchema,
    },
    responses: {
      200: json(chatConversationSchema, 'a page of the conversation'),
      ...errors,
      ...notFound,
    },
  },
} as const;

// --- outbox admin (issue 23) ---
const outboxIdParam = z.strictObject({
  id: z
    .string()
    .regex(/^obx_[0-9a-f]{32}$/)
    .describe('outbox message id (obx_…)'),
});

/** The outbox's dead letters and delivery history for the person (admin only). */
const OUTBOX_ROUTES = {
  listOutbox: {
    method: 'get',
    path: '/v1/outbox',
    summary: 'Outbound messages, newest first, by state, connector or run (admin)',
    description:
      'Each message with its state (`queued`, `in_flight`, `delivered`, `dead`), attempts, the budget of attempts and the last error (redacted); never its content. Pages with `next_cursor`.',
    request: { query: outboxListQuerySchema },
    responses: { 200: json(outboxListSchema, 'a page of messages'), ...errors },
  },
  getOutboxMessage: {
    method: 'get',
    path: '/v1/outbox/{id}',
    summary: 'One outbound message with its content and delivery history (admin), redacted',
    description:
      "The message, its content and each attempt's status, latency, category and error; content and errors pass the redactor on the way out, so a secret the host knows is never shown.",
    request: { params: outboxIdParam },
    responses: { 200: json(outboxMessageDetailSchema, 'the message'), ...errors, ...notFound },
  },
  retryOutboxMessage: {
    method: 'post',
    path: '/v1/outbox/{id}/retry',
    summary: 'Send a dead letter again, with a new budget of attempts (admin), audited',
    description:
      'The message goes back to the queue, due now, with `attempts` more tries (the host default when absent); attempts already made keep their numbers and the idempotency key stays, so a receiver dedupes. A delivered message is `OUTBOX_ALREADY_DELIVERED`, a queued or in-flight one `OUTBOX_NOT_DEAD` (409). Recorded as `outbox.admin`.',
    request: { params: outboxIdParam, body: jsonBody(outboxRetryInputSchema, { attempts: 3 }) },
    responses: {
      200: json(outboxActionResultSchema, 'queued again'),
      ...bodyErrors,
      ...notFound,
      ...conflict,
    },
  },
  discardOutboxMessage: {
    method: 'post',
    path: '/v1/outbox/{id}/discard',
    summary: 'Delete a dead or queued message so it is never sent (admin), audited',
    description:
      'Deletes the message and its attempt rows; the chain keeps its entries and an `outbox.admin` one. A message in flight (a host holds its lease) is `OUTBOX_LEASED`, a delivered one `OUTBOX_ALREADY_DELIVERED` (409).',
    request: { params: outboxIdParam },
    responses: {
      200: json(outboxActionResultSchema, 'discarded'),
      ...errors,
      ...notFound,
      ...conflict,
    },
  },
  pruneOutbox: {
    method: 'post',
    path: '/v1/outbox/prune',
    summary: 'Delete delivered and dead messages settled longer ago than a duration (admin)',
    description:
      'Deletes delivered and dead rows (and their attempts) last changed before now minus `older_than` (at least `1m`); queued and in-flight rows stay. One `outbox.admin` entry with the count.',
    request: { body: jsonBody(outboxPruneInputSchema, { older_than: '7d' }) },
    responses: { 200: json(outboxPruneResultSchema, 'how many were deleted'), ...bodyErrors },
  },
} as const;

const CORE_ROUTES = {
  health: {
    method: 'get',
    path: '/v1/health',
    summary: 'Liveness (no token needed)',
    description:
      'Answers as soon as the gateway listens. It needs no token and says nothing about runs, so a supervisor (the desktop shell, a service manager) can poll it. `agents` tells how agent workers are confined here: `jailed` (bubblewrap), `unsafe` (a person allowed running them without a jail, `--unsafe-agents`) or `refused` (no jail works here: no worker starts), with the reason and the fix.',
    // No token: the OpenAPI document says so (`security: []`) and the gateway lets it through.
    security: [] as Record<string, string[]>[],
    responses: {
      200: json(healthSchema, 'the host is up'),
      403: json(
        ErrorBody,
        'the request was addressed to another host name or came from another origin (every route refuses these)',
      ),
    },
  },
  createSession: {
    method: 'post',
    path: '/v1/sessions',
    summary: 'Create a session (a run may also create its own)',
    description:
      'A session holds at most one active run at a time. Create one to start several runs in a row in the same conversation; `POST /v1/runs` without `session_id` creates one by itself.',
    responses: { 201: json(Session, 'the new session'), ...errors },
  },
  getSession: {
    method: 'get',
    path: '/v1/sessions/{id}',
    summary: 'A session and its active run',
    description:
      'The session, its owner, its state and the id of its active run, if any. A connector sees only sessions it created.',
    request: { params: idParam('session') },
    responses: { 200: json(Session, 'the session'), ...errors, ...notFound },
  },
  createRun: {
    method: 'post',
    path: '/v1/runs',
    summary: 'Create a run from a goal; it starts by itself (no chat message needed)',
    description:
      "Creates a `pending` run in a new or given session; the supervisor starts it when an LLM is configured. Limits left out of `budget` come from the policy pack. A connector token gets at most its connector record's caps and the pack's defaults, and only a pack its record allows (else 403); each lowered limit is listed in `budget_clamps`. With an `Idempotency-Key`, repeating the same request returns the first run (200) instead of creating another; the same key with another body is a 409.",
    request: {
      headers: z.object({ 'idempotency-key': idempotencyKeySchema.optional() }),
      body: jsonBody(createRunInputSchema, {
        goal: 'Summarise the open issues of my project and post the summary',
        budget: { max_steps: 20, max_tokens: 50_000 },
      }),
    },
    responses: {
      201: json(Run, 'the new run'),
      200: json(Run, 'the run first created with this Idempotency-Key and body'),
      ...bodyErrors,
      ...notFound,
      409: json(
        ErrorBody,
        'the session already has an active run, or the key was used with another body',
      ),
    },
  },
  listRuns: {
    method: 'get',
    path: '/v1/runs',
    summary: 'Runs, newest first',
    description:
      'A page of runs, newest first, optionally filtered by state or session. Connector tokens see only the runs they created. Pass `next_before` as `before` for the next page.',
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
    description:
      'Everything a person needs to see why a run is where it is: its state and the reason, its budget and what it used, its goals, and the approvals it waits for.',
    request: { params: idParam('run') },
    responses: { 200: json(runDetailSchema, 'the run'), ...errors, ...notFound },
  },
  cancelRun: {
    method: 'post',
    path: '/v1/runs/{id}/cancel',
    summary: 'Cancel a run that has not ended',
    description:
      'Moves the run to `cancelled` (final) and stops its worker. A run that already ended answers 409. The body is optional.',
    request: {
      params: idParam('run'),
      body: { ...jsonBody(runActionInputSchema, { reason: 'no longer needed' }), required: false },
    },
    responses: {
      200: json(Run, 'the cancelled run'),
      ...bodyErrors,
      ...notFound,
      ...conflict,
    },
  },
  resumeRun: {
    method: 'post',
    path: '/v1/runs/{id}/resume',
    summary:
      'Resume a run paused for a schedule or an external event (approvals resume by decision)',
    description:
      'Queues a run paused for a schedule or an external event to run again (admin). A run waiting for an approval resumes when the approval is decided, not here.',
    request: {
      params: idParam('run'),
      body: { ...jsonBody(runActionInputSchema), required: false },
    },
    responses: {
      200: json(Run, 'the run, queued to resume'),
      ...bodyErrors,
      ...notFound,
      ...conflict,
    },
  },
  continueRun: {
    method: 'post',
    path: '/v1/runs/{id}/continue',
    summary:
      'Continue an ended run from its last checkpoint as a new run with a new budget (admin)',
    description:
      'Creates a `pending` run with the same goals and completion predicate, `parent_run_id` set to this run, and this run’s last checkpoint as its first, so its first worker resumes where this one stopped. The new run gets the budget given here (limits left out come from the pack); this run stays as it ended. A run that has not ended answers 409.',
    request: {
      params: idParam('run'),
      body: {
        ...jsonBody(continueRunInputSchema, { budget: { max_steps: 40 }, reason: 'more steps' }),
        required: false,
      },
    },
    responses: {
      201: json(Run, 'the new run'),
      ...bodyErrors,
      ...notFound,
      ...conflict,
    },
  },
  postRunNote: {
    method: 'post',
    path: '/v1/runs/{id}/notes',
    summary: "Send a run's agent a note it reads at its next LLM step (admin)",
    description:
      "Records the supervising person's note (1 to 4000 characters, redacted) with a `run.note` chain entry naming its text by digest. At the run's next LLM step the host adds every waiting note after the conversation's last message, framed as the person's note; it counts as delivered (`run.note_delivered`) once the worker checkpoints a conversation holding it, so a worker that crashes before reads it again and one that crashes after does not. A paused or pending run keeps it for its next segment. A run that ended answers 409 `RUN_ENDED`.",
    request: {
      params: idParam('run'),
      body: jsonBody(runNoteInputSchema, { text: 'Use the staging account, not production.' }),
    },
    responses: {
      201: json(RunNote, 'the note, waiting for the next step'),
      ...bodyErrors,
      ...notFound,
      ...conflict,
    },
  },
  listRunNotes: {
    method: 'get',
    path: '/v1/runs/{id}/notes',
    summary: "A run's notes from its supervising person, and whether each was delivered (admin)",
    description:
      'Every note sent to the run, oldest first, redacted as stored; `delivered_at` and `delivered_segment` stay null until a checkpoint of the worker holds the note.',
    request: { params: idParam('run') },
    responses: {
      200: json(runNoteListSchema, 'the notes, oldest first'),
      ...errors,
      ...notFound,
    },
  },
  interruptRun: {
    method: 'post',
    path: '/v1/runs/{id}/interrupt',
    summary: 'Pause a running run at its next step boundary',
    description:
      'Records the interrupt (`run.interrupt`). The next LLM or tool call of the run’s worker is refused before it starts anything; in that transaction the run goes to `paused_external_event`, `waiting_for` `person.resume`, with the reason saying who interrupted it. The worker checkpoints and exits without a retry charged; `POST /v1/runs/{id}/resume` continues it. A pending run pauses at its next segment’s first step. A paused run answers 409 `RUN_NOT_ACTIVE`, an ended one 409 `RUN_ENDED`. The body is optional.',
    request: {
      params: idParam('run'),
      body: {
        ...jsonBody(runInterruptInputSchema, { reason: 'wrong account' }),
        required: false,
      },
    },
    responses: {
      200: json(RunInterrupt, 'the interrupt, applied at the next step boundary'),
      ...bodyErrors,
      ...notFound,
      ...conflict,
    },
  },
  postRunEvent: {
    method: 'post',
    path: '/v1/runs/{id}/events',
    summary:
      'Deliver an external event; a run paused for exactly this event type is queued to resume (connector with events:post, or admin)',
    description:
      'Records the event (the chain keeps that it came, never its payload). When the run waits in `paused_external_event` for exactly this type it is queued to resume; any other event changes nothing.',
    request: {
      params: idParam('run'),
      body: jsonBody(runEventInputSchema, { type: 'payment.received', payload: { id: 'inv-42' } }),
    },
    responses: {
      200: json(
        z.strictObject({ event_id: z.string(), resumed: z.boolean(), run: Run }),
        'the event was recorded; `resumed` says whether it woke the run',
      ),
      ...bodyErrors,
      ...notFound,
    },
  },
  listRunSteps: {
    method: 'get',
    path: '/v1/runs/{id}/steps',
    summary: "A run's steps",
    description: 'Every LLM call and tool call of the run, in order, with redacted summaries.',
    request: { params: idParam('run') },
    responses: {
      200: json(z.strictObject({ steps: z.array(Step) }), 'the steps'),
      ...errors,
      ...notFound,
    },
  },
  listRunChain: {
    method: 'get',
    path: '/v1/runs/{id}/chain',
    summary: "A run's causal chain entries",
    description: 'The chain entries of one run, in order, paged by `after_seq`.',
    request: {
      params: idParam('run'),
      query: z.strictObject({
        after_seq: z.coerce.number().int().min(0).optional(),
        limit: limitQuery,
      }),
    },
    responses: { 200: json(chainPageSchema, 'a page of entries'), ...errors, ...notFound },
  },
  getRunTranscript: {
    method: 'get',
    path: '/v1/runs/{id}/transcript',
    summary: "A run's payloads: tool inputs and outcomes, LLM prompts and answers (admin)",
    description:
      "What each call of the run carried, redacted, in the order it was recorded, paged by `after_id`. The chain holds only each payload's `digest` (SHA-256 of its JSON text), size and label; a purged payload keeps its digest and has `content: null`.",
    request: {
      params: idParam('run'),
      query: z.strictObject({
        after_id: z.coerce.number().int().min(0).optional(),
        limit: limitQuery,
      }),
    },
    responses: { 200: json(Transcript, 'a page of the transcript'), ...errors, ...notFound },
  },
  purgeRunPayloads: {
    method: 'delete',
    path: '/v1/runs/{id}/payloads',
    summary: "Purge a run's payloads (admin); only once the run has ended",
    description:
      'Removes the content of every payload of an ended run (`done`, `failed` or `cancelled`) from the database; digests, sizes and labels stay, so the chain still proves what was there. A run that can still go on answers 409: its recorded outcomes are what a resumed call is answered from. Recorded on the chain as `payloads.purged`.',
    request: { params: idParam('run') },
    responses: {
      200: json(purgeResultSchema, 'what was purged'),
      ...errors,
      ...notFound,
      ...conflict,
    },
  },
  listApprovals: {
    method: 'get',
    path: '/v1/approvals',
    summary: 'Approvals (pending by default) with their permission diff (admin)',
    description:
      'What agents wait for: each approval says who asks, why, and exactly which permissions it would grant.',
    request: {
      query: z.strictObject({
        state: approvalStateSchema.optional(),
        run_id: z.string().max(100).optional(),
        limit: limitQuery,
      }),
    },
    responses: {
      200: json(z.strictObject({ approvals: z.array(Approval) }), 'approvals'),
      ...errors,
    },
  },
  getApproval: {
    method: 'get',
    path: '/v1/approvals/{id}',
    summary: 'One approval (admin)',
    description: 'One approval with its request (redacted), permission diff and decision.',
    request: { params: idParam('approval') },
    responses: { 200: json(Approval, 'the approval'), ...errors, ...notFound },
  },
  decideApproval: {
    method: 'post',
    path: '/v1/approvals/{id}',
    summary: 'Approve, deny or modify the scope of a pending approval (admin); decisions are final',
    description:
      'Records the decision and resumes the run it paused once nothing else is pending for it. A decision is final: deciding again answers 409. `answer` carries the fields a missing-input or human-action form asks for. `grant` approves an operation approval as a standing grant (issue 22): later calls of the same operation under the same permission diff, for this run or its schedule, for `uses` calls or until `until` (never past the pack’s `grants_max_ms`, 30 days by default); budget, declassify and (unless the pack allows it) taint-gated approvals answer 403 GRANT_NOT_ALLOWED.',
    request: {
      params: idParam('approval'),
      body: jsonBody(approvalDecisionInputSchema, { decision: 'approve', reason: 'looks right' }),
    },
    responses: {
      200: json(
        z.strictObject({ approval: Approval, run: Run, grant: Grant.optional() }),
        'the decided approval, its run, and the grant it made if one was asked for',
      ),
      ...bodyErrors,
      ...notFound,
      ...conflict,
    },
  },
  // --- standing approvals (issue 22) ---
  listGrants: {
    method: 'get',
    path: '/v1/grants',
    summary: 'Standing grants, newest first (admin)',
    description:
      'Every grant a person made when approving: what it covers (tool, skill version, permission diff), its scope, uses and expiry, and its state as of now (`active`, `used_up`, `expired`, `revoked`).',
    request: {
      query: z.strictObject({
        state: grantStateSchema.optional(),
        run_id: z.string().max(100).optional(),
        schedule_id: z.string().max(100).optional(),
        limit: limitQuery,
      }),
    },
    responses: { 200: json(grantListSchema, 'grants'), ...errors },
  },
  getGrant: {
    method: 'get',
    path: '/v1/grants/{id}',
    summary: 'One standing grant (admin)',
    description: 'One grant with its uses, expiry and state as of now.',
    request: { params: idParam('grant') },
    responses: { 200: json(Grant, 'the grant'), ...errors, ...notFound },
  },
  revokeGrant: {
    method: 'delete',
    path: '/v1/grants/{id}',
    summary: 'Revoke a standing grant (admin)',
    description:
      'The grant covers no call after this one: the next call it would have let through asks a person. Revoking it again answers 409.',
    request: { params: idParam('grant') },
    responses: { 200: json(Grant, 'the revoked grant'), ...errors, ...notFound, ...conflict },
  },
  listSchedules: {
    method: 'get',
    path: '/v1/schedules',
    summary: 'Schedules, newest first (admin)',
    description:
      'Every schedule that was not deleted, newest first, optionally by state: its trigger, target, overlap and catch-up policies, caps and the next instant it fires.',
    request: {
      query: z.strictObject({ state: scheduleStateSchema.optional(), limit: limitQuery }),
    },
    responses: {
      200: json(z.strictObject({ schedules: z.array(Schedule) }), 'schedules'),
      ...errors,
    },
  },
  createSchedule: {
    method: 'post',
    path: '/v1/schedules',
    summary: 'Create a schedule that starts runs from a template or resumes a paused run (admin)',
    description:
      'A trigger (`cron` with 5 or 6 fields in an IANA zone, `every`, or `at`) and a target: `start` a run from a template, or `resume` a run waiting in `paused_schedule`. Overlap (`skip`, `buffer_one`, `allow`), catch-up (`none`, `latest`, `all` within `catch_up_window_ms`), stable jitter and caps (runs and tokens per day, concurrent runs) decide what each fire does; every fire is recorded. See docs/scheduler.md.',
    request: {
      body: jsonBody(createScheduleInputSchema, {
        trigger: { kind: 'cron', expression: '0 8 * * 1-5', timezone: 'Europe/Berlin' },
        target: { kind: 'start', template: { goal: 'Summarise yesterday’s issues' } },
        overlap: 'skip',
        catch_up: 'latest',
      }),
    },
    responses: { 201: json(Schedule, 'the new schedule'), ...bodyErrors },
  },
  getSchedule: {
    method: 'get',
    path: '/v1/schedules/{id}',
    summary: 'A schedule, its next five fire times and its recent fires (admin)',
    description:
      'The schedule, the next five instants it will fire (each with its jitter), and its newest fires with their outcome and reason.',
    request: { params: idParam('schedule') },
    responses: { 200: json(ScheduleDetail, 'the schedule'), ...errors, ...notFound },
  },
  updateSchedule: {
    method: 'patch',
    path: '/v1/schedules/{id}',
    summary: 'Change a schedule’s trigger, policies, window, jitter, bounds, caps or note (admin)',
    description:
      'Fields left out stay as they are; `null` clears `start_at`, `end_at` or `note`. A new timing counts from now: it never reaches back to instants already past. An ended schedule answers 409.',
    request: {
      params: idParam('schedule'),
      body: jsonBody(updateScheduleInputSchema, { overlap: 'buffer_one', jitter_ms: 60_000 }),
    },
    responses: {
      200: json(Schedule, 'the changed schedule'),
      ...bodyErrors,
      ...notFound,
      409: json(ErrorBody, 'the schedule has ended'),
    },
  },
  deleteSchedule: {
    method: 'delete',
    path: '/v1/schedules/{id}',
    summary: 'Delete a schedule (admin); its fires and runs stay on record',
    description:
      'The schedule stops at once and disappears from lists; a fire it buffered is recorded as skipped. Its fire rows, the runs they started and the chain keep what happened.',
    request: { params: idParam('schedule') },
    responses: {
      200: json(z.strictObject({ schedule_id: z.string() }), 'deleted'),
      ...errors,
      ...notFound,
    },
  },
  pauseSchedule: {
    method: 'post',
    path: '/v1/schedules/{id}/pause',
    summary: 'Pause a schedule (admin): no fires until it is resumed',
    description:
      'Instants that pass while a schedule is paused are not fires (the chain records the pause). Pausing a paused schedule changes nothing; an ended one answers 409.',
    request: {
      params: idParam('schedule'),
      body: { ...jsonBody(runActionInputSchema, { reason: 'on holiday' }), required: false },
    },
    responses: {
      200: json(Schedule, 'the paused schedule'),
      ...bodyErrors,
      ...notFound,
      409: json(ErrorBody, 'the schedule has ended'),
    },
  },
  resumeSchedule: {
    method: 'post',
    path: '/v1/schedules/{id}/resume',
    summary: 'Resume a paused schedule (admin): it fires again from its next instant after now',
    description:
      'The schedule becomes active and its cursor moves to the first instant after now. Resuming an active schedule changes nothing; an ended one answers 409.',
    request: { params: idParam('schedule') },
    responses: {
      200: json(Schedule, 'the resumed schedule'),
      ...errors,
      ...notFound,
      409: json(ErrorBody, 'the schedule has ended'),
    },
  },
  triggerSchedule: {
    method: 'post',
    path: '/v1/schedules/{id}/trigger',
    summary: 'Fire a schedule once now (admin), under its overlap policy and caps',
    description:
      'A manual fire: claimed, applied and recorded like a scheduled one (`source: manual`), so it may be skipped, buffered or refused with its reason. Its regular instants are unchanged. An ended schedule answers 409.',
    request: { params: idParam('schedule') },
    responses: {
      200: json(ScheduleFire, 'the fire and what became of it'),
      ...errors,
      ...notFound,
      409: json(ErrorBody, 'the schedule has ended'),
    },
  },
} as const;

/** Tokens, agents, chain, skills, secrets, connectors, packs, memory, host and UI sessions. */
const HOST_ROUTES = {
  listTokens: {
    method: 'get',
    path: '/v1/tokens',
    summary: 'Tokens, without their secrets (admin)',
    description:
      'Every token with its kind, scopes, expiry and revocation; never a secret. Agent-session tokens (one per segment) are listed only with `include_agent_sessions=true`.',
    request: {
      query: z.strictObject({
        include_agent_sessions: z
          .enum(['true', 'false'])
          .optional()
          .describe('also list the agent-session tokens the supervisor minted for segments'),
      }),
    },
    responses: {
      200: json(z.strictObject({ tokens: z.array(TokenInfo) }), 'tokens'),
      ...errors,
    },
  },
  createToken: {
    method: 'post',
    path: '/v1/tokens',
    summary: 'Create an admin or connector token (admin); the secret is shown only here',
    description:
      'Mints a token. A connector token belongs to one connector and carries scopes; the secret is in this response only and is stored as a hash.',
    request: {
      body: jsonBody(createTokenInputSchema, {
        kind: 'connector',
        label: 'ci',
        connector_id: 'ci',
        scopes: ['runs:create', 'runs:read'],
      }),
    },
    responses: { 201: json(createdTokenSchema, 'the token and its secret'), ...bodyErrors },
  },
  revokeToken: {
    method: 'delete',
    path: '/v1/tokens/{id}',
    summary: 'Revoke a token (admin)',
    description: 'The token stops working at once, for every request after this one.',
    request: { params: idParam('token') },
    responses: { 200: json(TokenInfo, 'the revoked token'), ...errors, ...notFound },
  },
  getAgents: {
    method: 'get',
    path: '/v1/agents',
    summary: 'The host-wide kill switch and caps (admin)',
    description:
      'Whether agents are paused (by whom, why), the caps on concurrent runs and on tokens per UTC day, the tokens used today and the runs running now.',
    responses: { 200: json(AgentsStatus, 'the switch and caps'), ...errors },
  },
  pauseAgents: {
    method: 'post',
    path: '/v1/agents/pause',
    summary: 'Pause every agent at once (admin)',
    description:
      'No segment is granted while paused; a running segment ends at its next step, and every pending run shows the pause as its reason. Survives a restart. The body is optional.',
    request: {
      body: {
        ...jsonBody(pauseAgentsInputSchema, { reason: 'investigating a runaway agent' }),
        required: false,
      },
    },
    responses: { 200: json(AgentsStatus, 'the switch, now off'), ...bodyErrors },
  },
  resumeAgents: {
    method: 'post',
    path: '/v1/agents/resume',
    summary: 'Let agents run again after a pause (admin)',
    description: 'Pending runs start again, up to the caps.',
    responses: { 200: json(AgentsStatus, 'the switch, now on'), ...errors },
  },
  setAgentLimits: {
    method: 'put',
    path: '/v1/agents/limits',
    summary: 'Set the host-wide caps (admin)',
    description:
      '`max_concurrent_runs` lowers how many segments run at once (never above the start-up setting); `max_tokens_per_day` caps the LLM tokens all runs together use per UTC day, after which runs wait in pending until the day turns. Omitted fields stay; null removes a cap.',
    request: {
      body: jsonBody(agentLimitsInputSchema, {
        max_concurrent_runs: 2,
        max_tokens_per_day: 500000,
      }),
    },
    responses: { 200: json(AgentsStatus, 'the switch and caps'), ...bodyErrors },
  },
  verifyChain: {
    method: 'get',
    path: '/v1/chain/verify',
    summary: 'Verify the causal chain end to end (admin)',
    description:
      'Re-hashes every entry, checks every link and every signed head; `ok: false` names the first entry that was modified, removed or reordered, or a signed head the chain no longer matches (rewritten and re-hashed, or cut short).',
    responses: {
      200: json(ChainVerifyResult, 'the result; ok:false names the first broken link'),
      ...errors,
    },
  },
  exportChain: {
    method: 'get',
    path: '/v1/chain/export',
    summary: 'Export the whole causal chain with its signed heads (admin)',
    description:
      'Newline-delimited JSON: a header with the ed25519 public key, every entry in seq order up to a head the host signs now, then every signed head. `ccos chain verify --file` checks it offline; it detects a chain rewritten and re-hashed, or cut short, which hash links alone cannot.',
    responses: {
      200: {
        description: 'the export; each line is a ChainExportLine',
        content: { 'application/x-ndjson': { schema: z.string() } },
      },
      ...errors,
    },
  },
  queryChain: {
    method: 'get',
    path: '/v1/chain',
    summary: 'Causal chain entries by run, type and time range (admin)',
    description:
      'Chain entries in order, filtered by run, event type and time, paged by `after_seq`.',
    request: {
      query: z.strictObject({
        run_id: z.string().max(100).optional(),
        event_type: chainEventTypeSchema.optional(),
        since: z.iso
          .datetime({ offset: true })
          .optional()
          .describe('entries at or after this ISO 8601 instant (any offset)'),
        until: z.iso
          .datetime({ offset: true })
          .optional()
          .describe('entries before this ISO 8601 instant (any offset)'),
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
    description:
      "Every installed skill and the agent's tool list, both from the one registry, so they never disagree.",
    responses: { 200: json(skillListSchema, 'skills and tools'), ...errors },
  },
  installSkill: {
    method: 'post',
    path: '/v1/skills',
    summary:
      'Install or upgrade a skill from a folder, a .tgz, or a declarative skill.yaml / skill.md (a path, or a URL the host fetches) (admin); the response lists the permissions it was granted',
    description:
      'Validates the whole skill before anything is registered: a rejected skill leaves nothing behind and the error names the file, the line or field, and the fix.',
    request: {
      body: jsonBody(installSkillInputSchema, { path: '/home/me/skills/echo-notes' }),
    },
    responses: {
      201: json(installSkillResultSchema, 'the installed skill'),
      ...bodyErrors,
      409: json(ErrorBody, 'the skill is no longer what `consent_digest` approved'),
      422: json(
        ErrorBody,
        'the skill was rejected; the message names the file, the field and the fix',
      ),
      502: json(
        ErrorBody,
        'fetching the document from `url` failed (SKILL_HTTP_FAILED, with the cause in details.cause)',
      ),
    },
  },
  inspectSkill: {
    method: 'post',
    path: '/v1/skills/inspect',
    summary:
      'Check a skill and list what it may reach, without installing anything (the consent screen) (admin)',
    description:
      'Applies the whole load contract to a folder, `.tgz`, declarative document or URL and returns its operations, permissions and a digest of its manifest and code. Nothing is registered or written. Install with `consent_digest` set to the digest to install exactly what was shown: a skill that changed meanwhile is refused with 409.',
    request: {
      body: jsonBody(installSkillInputSchema, { path: '/home/me/skills/echo-notes' }),
    },
    responses: {
      200: json(inspectedSkillSchema, 'what the skill would be given'),
      ...bodyErrors,
      422: json(
        ErrorBody,
        'the skill was rejected; the message names the file, the field and the fix',
      ),
      502: json(
        ErrorBody,
        'fetching the document from `url` failed (SKILL_HTTP_FAILED, with the cause in details.cause)',
      ),
    },
  },
  getSkill: {
    method: 'get',
    path: '/v1/skills/{id}',
    summary: 'One installed skill',
    description: 'One skill with its operations, schemas, permissions and onboarding state.',
    request: { params: z.strictObject({ id: skillIdSchema }) },
    responses: { 200: json(Skill, 'the skill'), ...errors, ...notFound },
  },
  unloadSkill: {
    method: 'delete',
    path: '/v1/skills/{id}',
    summary: 'Unload and uninstall a skill (admin)',
    description: 'Calls in flight finish; the skill leaves the tool list at once.',
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
    description:
      'The host, never an agent, runs the skill’s setup steps in order; secrets it obtains wait for a `secret_write` approval, and steps that need a person become `human_action` approvals.',
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
    description: 'Runs the waiting `wait_for` check at once and returns the state reached.',
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
    description:
      'Its operations return to the tool list. A `failed` skill (its reload at start-up failed) is loaded again from its kept copy; if it still does not load, the error says why and it stays `failed`.',
    request: { params: z.strictObject({ id: skillIdSchema }) },
    responses: { 200: json(Skill, 'the skill'), ...errors, ...notFound },
  },
  disableSkill: {
    method: 'post',
    path: '/v1/skills/{id}/disable',
    summary: 'Disable a skill: its operations leave the tool list (admin)',
    description: 'The skill stays installed; calls to it are refused with SKILL_DISABLED.',
    request: { params: z.strictObject({ id: skillIdSchema }) },
    responses: { 200: json(Skill, 'the skill'), ...errors, ...notFound },
  },
  listSecrets: {
    method: 'get',
    path: '/v1/secrets',
    summary: 'Names of stored secrets, never their values (admin)',
    description: 'Secret values never leave the host; skills reference them by name.',
    responses: {
      200: json(z.strictObject({ names: z.array(z.string()) }), 'secret names'),
      ...errors,
    },
  },
  putSecret: {
    method: 'put',
    path: '/v1/secrets/{name}',
    summary: 'Store or replace a secret (admin); it is encrypted at rest and never shown again',
    description:
      'The value is encrypted with the data dir’s key and from now on redacted wherever it would appear (logs, chain, prompts).',
    request: {
      params: z.strictObject({ name: secretNameSchema }),
      body: jsonBody(
        z.strictObject({
          value: z
            .string()
            .min(8, 'must be at least 8 characters: shorter secrets cannot be redacted')
            .max(16_384),
        }),
        {
          value: 'the secret value',
        },
      ),
    },
    responses: { 200: json(z.strictObject({ name: z.string() }), 'stored'), ...bodyErrors },
  },
  deleteSecret: {
    method: 'delete',
    path: '/v1/secrets/{name}',
    summary: 'Delete a secret (admin)',
    description: 'Skills that reference it fail with a clear error until it is set again.',
    request: { params: z.strictObject({ name: secretNameSchema }) },
    responses: {
      200: json(z.strictObject({ name: z.string() }), 'deleted'),
      ...errors,
      ...notFound,
    },
  },
  listConnectors: {
    method: 'get',
    path: '/v1/connectors',
    summary: 'Connector records: the policy packs and budget caps of their runs (admin)',
    description:
      'Every connector record. A connector without one may use only the `default` policy pack, within its default budget.',
    responses: {
      200: json(z.strictObject({ connectors: z.array(ConnectorRecord) }), 'connector records'),
      ...errors,
    },
  },
  getConnector: {
    method: 'get',
    path: '/v1/connectors/{id}',
    summary: "One connector's record (admin)",
    description:
      'The policy packs and budget caps of runs created with this connector’s tokens; 404 when it has no record (the defaults apply).',
    request: { params: z.strictObject({ id: connectorIdSchema.describe('connector id') }) },
    responses: { 200: json(ConnectorRecord, 'the record'), ...errors, ...notFound },
  },
  putConnector: {
    method: 'put',
    path: '/v1/connectors/{id}',
    summary: "Create or replace a connector's record: allowed policy packs and budget caps (admin)",
    description:
      "Runs created with this connector's tokens may name only these policy packs (the first is used when a request names none; another is a 403) and get at most these limits and the pack's defaults; each lowered limit is listed in the run's `budget_clamps`.",
    request: {
      params: z.strictObject({ id: connectorIdSchema.describe('connector id') }),
      body: jsonBody(putConnectorInputSchema, {
        allowed_packs: ['default'],
        budget_caps: { max_steps: 20, max_tokens: 50_000 },
      }),
    },
    responses: { 200: json(ConnectorRecord, 'the record as stored'), ...bodyErrors },
  },
  events: {
    method: 'get',
    path: '/v1/events',
    summary:
      'Server-sent events: run transitions, segments, LLM and tool calls, budgets, approvals and skills; each `id` is a chain seq, resume with `Last-Event-ID`',
    description:
      'A live stream of run transitions, segments, LLM and tool calls (redacted summaries), budget warnings, approvals and skill changes, read from the chain. Reconnect with `Last-Event-ID` to get exactly what was missed, then the live tail.',
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
  listPolicyPacks: {
    method: 'get',
    path: '/v1/policies',
    summary: 'The policy packs this host knows: built-in, from files, and versions older runs keep',
    description:
      'Each pack with the version stamped on its runs and entries (`<label>+<content hash>`: an edited file is a new version) and where it came from. A `pinned` version is one a run was created under whose file has since changed or gone: that run is still held to it.',
    responses: { 200: json(policyPackListSchema, 'the packs'), ...errors },
  },
  getPolicyPack: {
    method: 'get',
    path: '/v1/policies/{id}',
    summary: 'One current policy pack, as its author wrote it',
    description:
      'The pack new runs that name this id get: every field, defaults filled in, with its stamped version and source.',
    request: { params: idParam('policy pack') },
    responses: { 200: json(policyPackDetailSchema, 'the pack'), ...errors, ...notFound },
  },
  // --- governed memory (issue 22) ---
  listMemory: {
    method: 'get',
    path: '/v1/memory',
    summary: 'Memory items, by run, session or namespace (admin); values redacted',
    description:
      'Every item with its label, taint, source, audience and expiry (expired items included, marked by `expires_at`). Values pass the redactor, and a `pii.*` value is shown to admin only; `value_withheld` says when a value was masked.',
    request: { query: memoryListQuerySchema },
    responses: { 200: json(memoryListSchema, 'the items'), ...errors },
  },
  getMemoryItem: {
    method: 'get',
    path: '/v1/memory/{id}',
    summary: 'One memory item (admin); its value redacted by the redactor and by label',
    description:
      'The item with its label, taint, source (skill and version, transform, agent run, person), the run and step that wrote it, its audience and expiry. The value passes the redactor; a `pii.*` value is shown to admin only, a secret never (none is ever stored).',
    request: { params: idParam('memory item') },
    responses: { 200: json(memoryItemSchema, 'the item'), ...errors, ...notFound },
  },
  deleteMemoryItem: {
    method: 'delete',
    path: '/v1/memory/{id}',
    summary: 'Delete one memory item (admin), recorded as `memory.deleted`',
    description:
      'Removes the item from the database; the chain keeps a `memory.deleted` entry naming the item, its namespace and key (never its value) and who deleted it.',
    request: { params: idParam('memory item') },
    responses: {
      200: json(z.strictObject({ deleted: z.literal(true) }), 'the item is gone'),
      ...errors,
      ...notFound,
    },
  },
  purgeMemory: {
    method: 'post',
    path: '/v1/memory/purge',
    summary: 'Delete every memory item of one run, session or namespace (admin), audited',
    description:
      'Exactly one of `run_id`, `session_id`, `namespace`. Recorded as one `memory.purged` entry with the scope and the count; the values are gone from the database.',
    request: { body: jsonBody(memoryPurgeRequestSchema, { session_id: 'ses_…' }) },
    responses: { 200: json(memoryPurgeResultSchema, 'how many items were deleted'), ...errors },
  },
  getHostInfo: {
    method: 'get',
    path: '/v1/host',
    summary: "The host's settings: data dir, LLM provider, policy packs, agent isolation (admin)",
    description:
      'What the Settings page shows. Never a secret: the LLM provider is named by kind and model only.',
    responses: { 200: json(hostInfoSchema, 'the host'), ...errors, ...notFound },
  },
  testLlmConnection: {
    method: 'post',
    path: '/v1/host/llm-test',
    summary: 'Send one tiny request to the configured LLM provider and report how it went (admin)',
    description:
      "Asks the provider for a one-word answer, outside any run (nothing is charged or recorded on a run). `ok: false` carries the provider's error, redacted, and its code; no provider configured is a 409.",
    responses: {
      200: json(llmTestResultSchema, 'the outcome'),
      ...errors,
      ...conflict,
    },
  },
  createLoginLink: {
    method: 'post',
    path: '/v1/ui/login-links',
    summary: 'A one-time login link for the UI (admin token only, not a browser session)',
    description:
      'Mints a link that signs one browser in: opening it exchanges its code, once and within five minutes, for an HttpOnly SameSite=Strict session cookie. `ccos open` prints one; the desktop shell opens one in its window. A browser session cannot mint links.',
    responses: { 201: json(loginLinkSchema, 'the link'), ...errors },
  },
  getUiSession: {
    method: 'get',
    path: '/v1/ui/session',
    summary: "The browser session's CSRF token and where the live stream starts",
    description:
      'Answers only a request authenticated by the UI session cookie: the page reads its CSRF token here (a page of another origin cannot read the response) and sends it as `x-ccos-csrf` on every state-changing request.',
    responses: {
      200: json(uiSessionInfoSchema, 'the session'),
      ...errors,
      404: json(ErrorBody, 'the request used a token, not a browser session'),
    },
  },
  endUiSession: {
    method: 'post',
    path: '/v1/ui/logout',
    summary: 'Sign this browser out',
    description:
      'Ends the browser session the cookie names and clears the cookie; a token-authenticated request has no session to end.',
    responses: {
      200: json(z.strictObject({ ended: z.boolean() }), 'whether a session was ended'),
      ...errors,
    },
  },
} as const;

/** Every route of the API, joined from its parts (see `CONNECTOR_INBOUND_ROUTES`). */
// Joined from parts because one object literal of every route grew past what tsc will
// serialize as an inferred type (TS7056).
export const API: typeof CORE_ROUTES &
  typeof HOST_ROUTES &
  typeof CONNECTOR_INBOUND_ROUTES &
  typeof CHAT_ROUTES &
  typeof OUTBOX_ROUTES = {
  ...CORE_ROUTES,
  ...HOST_ROUTES,
  // --- inbound connectors (issue 23) ---
  ...CONNECTOR_INBOUND_ROUTES,
  // --- ui-chat (issue 24) ---
  ...CHAT_ROUTES,
  // --- outbox admin (issue 23) ---
  ...OUTBOX_ROUTES,
};

export type ApiRouteName = keyof typeof API;

/**
 * The OpenAPI tags: one per resource, named after the path segment after `/v1/`
 * (`/v1/health` is `host`). Every route's tag must be described here.
 */
export const API_TAGS: Readonly<Record<string, string>> = {
  host: 'The host itself: liveness and this document',
  agents: 'The host-wide kill switch and caps over every run (admin)',
  sessions: 'Sessions: the unit a run is bound to (at most one active run each)',
  runs: 'Runs: goals an agent works on, in bounded segments under a budget',
  approvals: 'What agents wait for a person to decide',
  grants: 'Standing approvals: what a person let later calls do without asking again (admin)',
  schedules:
    'Schedules: cron, interval and one-time triggers that start runs or resume paused ones',
  tokens: 'Bearer tokens for the API (admin)',
  chain: 'The causal chain: the append-only, hash-linked audit trail',
  skills: 'Sandboxed skills and their onboarding',
  secrets: 'Secret names (values never leave the host)',
  connectors: 'Connector records: what runs created by each connector may use',
  policies: 'Policy packs: the rules runs are held to, versioned by content',
  memory: 'Governed memory: labelled items with a source, an audience and an expiry (admin)',
  events: 'Server-sent events for live views',
  ui: 'Browser sessions of the desktop UI: login links, CSRF token, sign-out',
  // --- inbound connectors (issue 23) ---
  'connector-adapters':
    "Connectors' adapters: inbound proof, activation rules, run templates (admin)",
  chat: "The local chat: the person's messages from the desktop UI",
  // --- outbox admin (issue 23) ---
  outbox: 'The outbox: outbound messages, their delivery history and dead letters (admin)',
};

/** The tag of a route: the resource its path names. */
export function apiTagOf(path: string): string {
  const resource = /^\/v1\/([a-z-]+)/.exec(path)?.[1] ?? 'host';
  return resource === 'health' || resource === 'openapi.json' ? 'host' : resource;
}
