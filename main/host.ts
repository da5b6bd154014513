import type { PolicyPack } from '../contracts/policy.ts';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { DestinationStream, Logger } from 'pino';
import { TokenService } from './auth/token-service.ts';
import type { CausalChain } from './chain/causal-chain.ts';
import type { ChainHeads } from './chain/chain-heads.ts';
import { EgressAudit } from './chain/egress-audit.ts';
import { systemClock, type Clock } from './clock.ts';
import type { HostConfig } from './config.ts';
import type { Disposable } from './disposable.ts';
import { ExecutePipeline } from './execute/execute-pipeline.ts';
import type { AgentIsolationStatus } from '../contracts/agent-isolation.ts';
import {
  chooseSpawner,
  givenSpawnerStatus,
  type SpawnerChoice,
} from './agent/spawn/choose-spawner.ts';
import { readSharedMemory } from './execute/shared-memory.ts';
import { outcomeLabelsOf } from './execute/outcome-labels.ts';
import { transformModelOf } from './agent/llm/transform-llm.ts';
import type { Spawner } from './agent/spawn/spawner.ts';
import { BudgetMeter } from './runs/budget-meter.ts';
import { ExternalRuns } from './runs/external-run.ts';
import { parseToolName } from './skills/manifest/tool-definitions.ts';
import { CheckpointStore } from './runs/checkpoint-store.ts';
import { continueRun } from './runs/continue-run.ts';
import { PayloadStore } from './runs/payload-store.ts';
import type { Supervisor } from './supervisor/supervisor.ts';
import { ConnectorRecords } from './connectors/connector-records.ts';
import { RunSteering } from './runs/run-steering.ts';
import { createGatewayApp } from './gateway/server/create-gateway-app.ts';
import { listenGateway } from './gateway/server/gateway-server.ts';
import { defaultRendererDir } from './gateway/server/renderer-dir.ts';
import { UiSessions } from './gateway/shared/ui-sessions.ts';
import { loginUrlOf, type LoginLink } from '../contracts/ui.ts';
import { createLogger } from './policy/create-logger.ts';
import { DEFAULT_POLICY_PACK, type PolicyPacks } from './policy/policy-packs.ts';
import { hostPolicyPacks, readHostPackFiles } from './policy/host-policy-packs.ts';
import { decide } from './policy/decide.ts';
import { Redactor } from './policy/redactor.ts';
import { MemoryAdmin } from './memory/memory-admin.ts';
import { MemoryStore } from './memory/memory-store.ts';
import { hostSecretNames } from './policy/host-secrets.ts';
import { KEYED_HASH_PREFIX, SecretStore } from './policy/secret-store.ts';
import { ApprovalExpiry } from './runs/approval-expiry.ts';
import { HostControls } from './runs/host-controls.ts';
import { HostHeldRuns } from './runs/host-held-runs.ts';
// --- inbound connectors (issue 23) ---
import { createInboundConnectors } from './connectors/connector-inbound-wiring.ts';
// --- outbox wiring (issue 23) ---
import { AdapterConfigs } from './connectors/adapter-configs.ts';
import { buildOutbox, type HostOutbox } from './host/build-outbox.ts';
import { publishedContentOf } from './outbox/local-chat-transport.ts';
// --- outbox admin (issue 23) ---
import { buildOutboxAdmin } from './host/build-outbox-admin.ts';
import { GrantService } from './runs/grant-service.ts';
import { ApprovalService } from './runs/approval-service.ts';
import { IDEMPOTENCY_KEY_PURPOSE, RunService, type RecoveryOutcome } from './runs/run-service.ts';
import { SessionService } from './runs/session-service.ts';
import { OnboardingService } from './skills/onboarding/onboarding-service.ts';
import type { SkillRegistry } from './skills/registry/skill-registry.ts';
import type { FollowUps } from './scheduler/follow-ups.ts';
import type { ScheduleService } from './scheduler/schedule-service.ts';
import type { Scheduler } from './scheduler/scheduler.ts';
import { systemWakeTimer, type WakeTimer } from './scheduler/wake-timer.ts';
import { startRetentionSweep } from './host/retention-sweep.ts';
import { SkillService } from './skills/install/skill-service.ts';
import { openStore, type Store } from './store/open-store.ts';
import type { QuarantineStore } from './quarantine/quarantine-store.ts';
import { TransformOutputs } from './transforms/transform-outputs.ts';
import { TransformService } from './transforms/transform-service.ts';
import { TransformThreads } from './transforms/transform-threads.ts';
import { HOST_VERSION } from './version.ts';
// The composition's groups, each built in its own file (issue 18).
import { buildScheduling } from './host/build-scheduling.ts';
import { buildSkillRegistry } from './host/build-skill-registry.ts';
import { hostSettingsView } from './host/host-settings-view.ts';
import { openChain } from './host/open-chain.ts';
import { openQuarantine } from './host/open-quarantine.ts';
import { startSupervisor } from './host/start-supervisor.ts';
import { writeFileAtomically } from './write-file-atomically.ts';
import {
  ADMIN_TOKEN_FILE,
  GATEWAY_INFO_FILE,
  SECRET_KEY_FILE,
  SKILLS_DIR,
} from './data-dir-files.ts';

export { ADMIN_TOKEN_FILE, GATEWAY_INFO_FILE, SECRET_KEY_FILE, SKILLS_DIR };

export type HostDeps = {
  clock?: Clock;
  logger?: Logger;
  /**
   * Where the host's own logger writes (default stderr), used when `logger` is not given.
   * The lines pass through the host's redactor, so a test can search them for secrets.
   */
  logDestination?: DestinationStream;
  /**
   * How agent workers are started. By default the host detects the jail at start-up and
   * refuses agents without one unless `agents.allow_unjailed` (see `chooseSpawner`).
   */
  spawner?: Spawner;
  /** Policy packs besides the default one, by id (settings; tests use small segments). */
  policyPacks?: readonly PolicyPack[];
  /** The scheduler's one real timer; tests pass one they fire by hand (time is `clock`'s). */
  schedulerTimer?: WakeTimer;
  // --- retention sweep (issue 22, taint22) ---
  /** The retention sweep's timer (expired memory, old payloads); tests fire it by hand. */
  retentionTimer?: WakeTimer;
  /** The built renderer the gateway serves (default `dist/renderer`); null serves no UI. */
  rendererDir?: string | null;
  // --- outbox wiring (issue 23) ---
  /** The outbox dispatcher's one real timer; tests pass one they fire by hand. */
  outboxTimer?: WakeTimer;
};

/** Everything a started host offers; shells and tests reach services through this. */
export type StartedHost = {
  config: HostConfig;
  store: Store;
  chain: CausalChain;
  /** Signed chain heads: periodic, on stop, on export; verification against them. */
  chainHeads: ChainHeads;
  /** Audits requests host code sends for someone (skill documents…): before and after. */
  egress: EgressAudit;
  sessions: SessionService;
  runs: RunService;
  approvals: ApprovalService;
  /** Standing approvals (issue 22). */
  grants: GrantService;
  tokens: TokenService;
  secrets: SecretStore;
  redactor: Redactor;
  /** Governed memory: every memory read and write goes through it (issue 22). */
  memory: MemoryStore;
  skillRegistry: SkillRegistry;
  skills: SkillService;
  onboarding: OnboardingService;
  pipeline: ExecutePipeline;
  policies: PolicyPacks;
  checkpoints: CheckpointStore;
  payloads: PayloadStore;
  meter: BudgetMeter;
  connectors: ConnectorRecords;
  /**
   * Raw inbound content, sealed; host code ingests, only transforms read (issue 22) — and the
   * person their own local chat messages, audited (the Chat page's history, issue 24).
   */
  quarantine: QuarantineStore;
  /** Summarize, extract, redact and the redaction verifier: the agents' only way into it. */
  transforms: TransformService;
  /**
   * Null when no LLM provider is configured or agents are refused (no jail, not allowed to
   * run without): runs then wait in `pending`.
   */
  supervisor: Supervisor | null;
  /** How agent workers are confined here, as `GET /v1/health` reports it. */
  agents: AgentIsolationStatus;
  schedules: ScheduleService;
  scheduler: Scheduler;
  /** What `ccos/schedule.resume` calls: a worker asking to be resumed later. */
  followUps: FollowUps;
  /** The host-wide kill switch and caps (`ccos agents …`). */
  controls: HostControls;
  /** A person's notes to runs' agents and interrupts (issue 24). */
  steering: RunSteering;
  logger: Logger;
  recovery: readonly RecoveryOutcome[];
  gateway: { url: string; port: number };
  /** Owner-only file holding an admin token, for the CLI and the desktop shell. */
  adminTokenFile: string;
  /** A fresh one-time login link for the UI (`npm start` prints one). */
  loginLink: () => LoginLink;
  // --- outbox wiring (issue 23) ---
  /** Outbound messages: queued by steps and adapters, delivered by the dispatcher. */
  outbox: HostOutbox;
};

export const HOST_ACTOR = 'host';

/** What a pending run shows on a host with no LLM provider: nothing will start it. */
export const NO_LLM_PENDING = {
  state_reason:
    'no_llm: the host has no LLM provider configured, so no run starts; restart it with --llm-settings FILE (or CCOS_LLM_SETTINGS)',
  waiting_for: 'llm_provider',
} as const;

const MAX_BODY_BYTES = 1024 * 1024;
const SSE_KEEP_ALIVE_MS = 15_000;

/**
 * The composition root (ARCHITECTURE.md §1): the only place that constructs services.
 * `start()` opens everything in order; `stop()` disposes it in reverse order.
 */
export class Host {
  readonly #config: HostConfig;
  readonly #deps: HostDeps;
  #started: StartedHost | undefined;
  #disposables: Disposable[] = [];

  constructor(config: HostConfig, deps: HostDeps = {}) {
    this.#config = config;
    this.#deps = deps;
  }

  get started(): StartedHost {
    if (this.#started === undefined) throw new Error('host is not started');
    return this.#started;
  }

  async start(): Promise<StartedHost> {
    if (this.#started !== undefined) return this.#started;
    const config = this.#config;
    const clock = this.#deps.clock ?? systemClock();
    const redactor = new Redactor();
    const logger =
      this.#deps.logger ??
      createLogger({
        level: config.log_level,
        redactor,
        ...(this.#deps.logDestination === undefined
          ? {}
          : { destination: this.#deps.logDestination }),
      });
    const startedAt = Date.now();
    const track = (disposable: Disposable): void => {
      this.#disposables.push(disposable);
    };
    // Detection starts a probe jail; it runs while the store opens.
    const choosing = this.#chooseSpawner(logger);
    choosing.catch(() => undefined);
    try {
      // Before anything starts: an invalid pack file stops start-up with file:line:col.
      const packFiles = await readHostPackFiles({
        dataDir: config.data_dir,
        policyDir: config.policy_dir,
      });
      const store = await openStore({ dataDir: config.data_dir });
      this.#disposables.push({ dispose: () => store.close() });
      if (store.applied.length > 0)
        logger.info({ migrations: store.applied }, 'database schema updated');

      const policies = await hostPolicyPacks({
        files: packFiles,
        settings: this.#deps.policyPacks ?? [],
        db: store.db,
        logger,
      });
      if (packFiles.length > 0)
        logger.info(
          { packs: packFiles.map((f) => `${f.pack.id} (${f.file})`) },
          'policy packs loaded',
        );
      const { chain, chainHeads } = await openChain(
        { store, clock, policies, redactor, logger, dataDir: config.data_dir },
        track,
      );
      const egress = new EgressAudit({ chain });
      const secrets = await SecretStore.open({
        db: store.db,
        chain,
        clock,
        keyFile: path.join(config.data_dir, SECRET_KEY_FILE),
      });
      for (const value of await secrets.revealAll()) redactor.addKnownValue(value);
      this.#disposables.push(
        secrets.onValue((value) => {
          redactor.addKnownValue(value);
        }),
      );
      const sessions = new SessionService({ db: store.db, chain, clock });
      const { quarantine, key: quarantineKey } = await openQuarantine(
        { db: store.db, chain, clock, policies, logger, dataDir: config.data_dir },
        track,
      );
      const controls = await new HostControls({
        db: store.db,
        chain,
        clock,
        maxConcurrent: config.agents.max_concurrent,
      }).load();
      if (controls.paused) logger.warn(controls.status(), 'agents are paused: no run starts');
      const runs = new RunService({
        db: store.db,
        chain,
        clock,
        policies,
        sessions,
        redactText: (text) => redactor.redactString(text),
        pendingNote: () => {
          // A hold a person set (paused, the day's tokens) says so over the run's own reason.
          const hold = controls.holdNote();
          if (hold !== undefined) return { ...hold, replaces: true };
          if (config.agents.llm === null) return { ...NO_LLM_PENDING, replaces: false };
          const slot = controls.slotNote();
          return slot === undefined ? undefined : { ...slot, replaces: false };
        },
      });
      const rehashed = await runs.hashPlainIdempotencyKeys(
        (key) => secrets.keyedHash(IDEMPOTENCY_KEY_PURPOSE, key),
        KEYED_HASH_PREFIX,
      );
      if (rehashed > 0) logger.info({ rehashed }, 'stored idempotency keys replaced by their hash');
      const approvals = new ApprovalService({ db: store.db, chain, clock, runs, policies });
      this.#disposables.push(approvals.registerRunEndExpiry());
      const grants = new GrantService({ db: store.db, chain, clock, runs, policies });
      this.#disposables.push(approvals.registerGrantIssuer(grants));
      this.#disposables.push(grants.registerRunEndExpiry());
      const tokens = new TokenService({
        db: store.db,
        chain,
        clock,
        onMinted: (token) => redactor.addKnownValue(token),
      });

      const recovery = await runs.recoverInterrupted({ actor: HOST_ACTOR });
      for (const r of recovery) logger.warn(r, 'run interrupted by a previous stop');
      const stale = await tokens.revokeStaleAgentSessions({ actor: HOST_ACTOR });
      if (stale.length > 0)
        logger.warn({ tokens: stale.length }, 'revoked agent-session tokens a previous stop left');

      const hostSecrets = hostSecretNames(config.agents.llm);
      const memory = new MemoryStore({ db: store.db, clock, redactor });
      const skillRegistry = buildSkillRegistry({
        config,
        chain,
        memory,
        secrets,
        policies,
        logger,
        hostSecrets,
        onCatastrophicError: () => {
          process.exitCode = 70;
          void this.stop();
        },
      });
      this.#disposables.push(skillRegistry);
      const skills = new SkillService({
        db: store.db,
        chain,
        clock,
        registry: skillRegistry,
        logger,
        skillsDir: path.join(config.data_dir, SKILLS_DIR),
        egress,
        // Installing and enabling are the host's acts, under its default pack (issue 22).
        packRules: (request) => decide(policies.get(DEFAULT_POLICY_PACK.id), request),
      });
      const payloads = new PayloadStore({ db: store.db, chain, clock });
      const meter = new BudgetMeter({ clock, policies, approvals, runs });
      this.#disposables.push(meter.registerGrants());
      const transformModel = transformModelOf(config.agents.llm, {
        resolveSecret: (name) => secrets.reveal(name),
      });
      // --- xform (issue 22): transforms read text on their own threads ---
      const transformThreads = new TransformThreads();
      this.#disposables.push(transformThreads);
      const transforms = new TransformService({
        threads: transformThreads,
        chain,
        clock,
        quarantine,
        outputs: new TransformOutputs(quarantineKey.sealKey),
        redactor,
        policies,
        ...(transformModel === undefined
          ? {}
          : { llm: { model: transformModel, meter, runs, controls } }),
      });
      const steering = new RunSteering({ chain, clock, runs, payloads, redactor });
      // --- outbox wiring (issue 23) ---
      const adapterConfigs = new AdapterConfigs({
        db: store.db,
        chain,
        clock,
        secrets,
        allowLoopbackHttp: config.skills.allow_loopback_http,
      });
      const outbox = buildOutbox({
        db: store.db,
        chain,
        clock,
        redactor,
        logger,
        policies,
        configs: adapterConfigs,
        allowLoopbackHttp: config.skills.allow_loopback_http,
        timer: this.#deps.outboxTimer ?? systemWakeTimer(),
        actor: HOST_ACTOR,
      });
      const pipeline = new ExecutePipeline({
        payloads,
        registry: skillRegistry,
        approvals,
        grants,
        chain,
        redactor,
        policies,
        clock,
        logger,
        // Autofill reads the person's shared namespaces (e.g. `profile`), never a skill's.
        readMemory: (namespace, key, runId) =>
          readSharedMemory({ chain, memory }, namespace, key, runId),
        skills,
        transforms,
        outbox: outbox.service,
      });
      this.#disposables.push(pipeline.registerAnswerValidation());
      const checkpoints = new CheckpointStore({
        db: store.db,
        clock,
        redact: (state) => redactor.redactValue(state),
      });
      const { scheduler, schedules, followUps } = buildScheduling({
        db: store.db,
        chain,
        clock,
        logger,
        runs,
        sessions,
        meter,
        policies,
        checkpoints,
        timer: this.#deps.schedulerTimer ?? systemWakeTimer(),
        redactText: (text) => redactor.redactString(text),
      });
      // Disposed before the registry (reverse order): its timers stop and passes finish first.
      const onboarding = new OnboardingService({
        db: store.db,
        chain,
        clock,
        registry: skillRegistry,
        heldRuns: new HostHeldRuns({ runs }),
        approvals,
        secrets,
        logger,
        memory,
      }).register();
      this.#disposables.push(onboarding);
      const restored = await skills.restore({ actor: HOST_ACTOR });
      if (restored.restored.length + restored.failed.length > 0)
        logger.info(restored, 'installed skills reloaded');
      await onboarding.restore();
      this.#disposables.push(new ApprovalExpiry({ approvals, chain, clock, logger }).start());
      // --- retention sweep (issue 22, taint22) ---
      this.#disposables.push(
        startRetentionSweep({
          ...{ db: store.db, chain, clock, memory, payloads, policies, logger },
          timer: this.#deps.retentionTimer ?? systemWakeTimer(),
        }),
      );

      const adminTokenFile = path.join(config.data_dir, ADMIN_TOKEN_FILE);
      const admin = await tokens.ensureAdminTokenFile(adminTokenFile, { actor: HOST_ACTOR });
      if (admin.created) logger.info({ file: adminTokenFile }, 'admin token written');

      const connectors = new ConnectorRecords({ db: store.db, chain, clock, policies });
      // --- inbound connectors (issue 23) ---
      const inboundConnectors = await createInboundConnectors({
        db: store.db,
        chain,
        clock,
        secrets,
        quarantine,
        runs,
        sessions,
        approvals,
        records: connectors,
        configs: adapterConfigs,
        outbound: outbox.queue,
        steering,
      });
      this.#disposables.push(inboundConnectors);
      const agents = await choosing;
      const uiSessions = new UiSessions({ clock });
      const gatewayApp = createGatewayApp({
        clock,
        agents: agents.status,
        controls,
        connectors,
        inboundConnectors,
        outboundContent: (outboxId) => publishedContentOf(store.db, outboxId),
        policies,
        memoryAdmin: new MemoryAdmin({ memory, chain, redactor }),
        // --- outbox admin (issue 23) ---
        outboxAdmin: buildOutboxAdmin({ db: store.db, chain, clock, redactor, policies, outbox }),
        uiSessions,
        steering,
        continueRun: (parentId, input, ctx) =>
          continueRun({ runs, checkpoints, chain, policies }, parentId, input, ctx),
        host: hostSettingsView({ config, policies, agents: agents.status, secrets, redactor }),
        rendererDir:
          this.#deps.rendererDir === undefined ? defaultRendererDir() : this.#deps.rendererDir,
        runs,
        sessions,
        approvals,
        grants,
        tokens,
        chain,
        chainHeads,
        secrets,
        redactor,
        skills,
        onboarding,
        payloads,
        schedules,
        logger,
        version: HOST_VERSION,
        startedAt,
        maxBodyBytes: MAX_BODY_BYTES,
        keepAliveMs: SSE_KEEP_ALIVE_MS,
        statusLogDir: config.gateway.status_log_dir,
        allowAnyHost: config.gateway.allow_non_loopback,
        mcp: {
          pipeline,
          externalRuns: new ExternalRuns({ chain, runs, meter, clock }),
          policies,
          operationOf: (tool) => {
            const named = parseToolName(tool);
            return named === undefined
              ? undefined
              : skillRegistry
                  .find(named.skillId)
                  ?.operations.find((op) => op.id === named.operationId);
          },
          labelsOf: (tool, outcome) => {
            const skillId = parseToolName(tool)?.skillId;
            const skill = skillId === undefined ? undefined : skillRegistry.find(skillId);
            return outcomeLabelsOf(skill, tool, outcome);
          },
        },
      });
      const server = await listenGateway(gatewayApp.app, {
        host: config.gateway.host,
        port: config.gateway.port,
        allowNonLoopback: config.gateway.allow_non_loopback,
        logger,
      });
      this.#disposables.push(server);
      // After the listener (so disposed before it): MCP sessions end, and their runs with
      // them, while their connections are still open to be told.
      this.#disposables.push(gatewayApp);
      const infoFile = path.join(config.data_dir, GATEWAY_INFO_FILE);
      await writeFileAtomically(infoFile, JSON.stringify({ url: server.url, pid: process.pid }));
      this.#disposables.push({ dispose: () => rm(infoFile, { force: true }) });

      const supervisor = startSupervisor(
        config.agents,
        agents.spawner,
        {
          store,
          controls,
          runs,
          chain,
          clock,
          logger,
          tokens,
          meter,
          policies,
          checkpoints,
          payloads,
          pipeline,
          skillRegistry,
          redactor,
          memory,
          approvals,
          secrets,
          followUps,
          steering,
        },
        track,
      );
      // --- outbox wiring (issue 23) ---
      // After recovery and the connectors' configurations: rows a previous host left are
      // delivered now. Disposed before the gateway and the store: in-flight attempts abort and
      // keep their lease, so the next start retries them.
      this.#disposables.push(outbox.dispatcher);
      outbox.dispatcher.start();
      // Last to start, first to stop: fires stop before the supervisor and the gateway do.
      this.#disposables.push(scheduler);
      await scheduler.start();

      this.#started = {
        config,
        store,
        chain,
        chainHeads,
        egress,
        sessions,
        runs,
        approvals,
        grants,
        tokens,
        secrets,
        redactor,
        memory,
        skillRegistry,
        skills,
        onboarding,
        pipeline,
        policies,
        checkpoints,
        payloads,
        meter,
        connectors,
        quarantine,
        transforms,
        supervisor,
        agents: agents.status,
        schedules,
        scheduler,
        followUps,
        controls,
        steering,
        logger,
        recovery,
        gateway: { url: server.url, port: server.port },
        adminTokenFile,
        loginLink: () => {
          const { code, expiresAt } = uiSessions.issueLoginCode();
          return { url: loginUrlOf(server.url, code), expires_at: expiresAt.toISOString() };
        },
        outbox,
      };
      logger.info({ data_dir: config.data_dir, url: server.url }, 'host started');
      return this.#started;
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  #chooseSpawner(logger: Logger): Promise<SpawnerChoice> {
    const given = this.#deps.spawner;
    if (given !== undefined) {
      return Promise.resolve({ spawner: given, status: givenSpawnerStatus(given) });
    }
    return chooseSpawner({
      allowUnjailed: this.#config.agents.allow_unjailed,
      detect: { bwrap: this.#config.agents.bwrap },
      logger,
    });
  }

  async stop(): Promise<void> {
    const disposables = this.#disposables.reverse();
    this.#disposables = [];
    this.#started = undefined;
    for (const d of disposables) await d.dispose();
  }
}
