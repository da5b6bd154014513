import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pino, type DestinationStream } from 'pino';
import type { Approval } from '../../../../contracts/approvals.ts';
import type { ChainEntry, ChainEventType } from '../../../../contracts/chain.ts';
import type { LlmProviderSettings, LlmReplayEntry } from '../../../../contracts/llm.ts';
import type { PolicyPack } from '../../../../contracts/policy.ts';
import type { Goal, Run, RunState } from '../../../../contracts/runs.ts';
import type { Spawner } from '../../../../main/agent/spawn/spawner.ts';
import type { Clock } from '../../../../main/clock.ts';
import type { WakeTimer } from '../../../../main/scheduler/wake-timer.ts';
import { parseHostConfig } from '../../../../main/config.ts';
import { ADMIN_TOKEN_FILE, Host, type StartedHost } from '../../../../main/host.ts';
import { runCli, type CliResult } from '../../gateway/helpers/run-cli.ts';
import { NO_OPERATION_APPROVALS } from '../../../support/test-policy-packs.ts';
import { projectPath } from '../../../support/project-path.ts';
import { makeTempDir, removeTempDir } from '../../../support/test-store.ts';
import { testHostEnv } from '../../../support/test-host-env.ts';

/** The bundled skill every autonomy test installs: `echo-notes__echo` needs no approval. */
export const ECHO_NOTES_DIR = projectPath('plugins', 'echo-notes');
export const ECHO = 'echo-notes__echo';

/** Generous: real worker processes on a loaded 2-core machine. */
export const RUN_TIMEOUT_MS = 60_000;

/** A replay transcript as the test writes it (entries in order; `loop_last` repeats the last). */
export type Transcript = {
  on_exhausted?: 'error' | 'loop_last';
  entries: (Omit<LlmReplayEntry, 'message'> & {
    message: { content?: string; tool_calls?: LlmReplayEntry['message']['tool_calls'] };
  })[];
};

/** A model answer that calls one tool. */
export function callEntry(
  id: string,
  name: string,
  args: Record<string, unknown>,
  extra: Omit<LlmReplayEntry, 'message'> = {},
): Transcript['entries'][number] {
  return { ...extra, message: { content: '', tool_calls: [{ id, name, arguments: args }] } };
}

/** A final answer: no tool calls, so the worker claims completion. */
export function doneEntry(
  content = 'The goal is met.',
  extra: Omit<LlmReplayEntry, 'message'> = {},
): Transcript['entries'][number] {
  return { ...extra, message: { content } };
}

/**
 * A pack derived from the default one, minus its operation approvals: these tests are about
 * segments, budgets and faults, and their skills (the slow one does HTTP) would otherwise
 * pause on the approval the default pack asks before every net.http operation.
 */
export function pack(id: string, overrides: Partial<PolicyPack> = {}): PolicyPack {
  return { ...NO_OPERATION_APPROVALS, id, ...overrides };
}

export type ApiResponse = { status: number; body: unknown; text: string };

export type RunView = { run: Run; goals: Goal[]; pending_approvals: Approval[] };

export type AutonomyHostOptions = {
  transcript: Transcript;
  packs?: readonly PolicyPack[];
  spawner?: Spawner;
  maxConcurrent?: number;
  /** Pre-started workers (`agents.worker_pool_size`); default the host's default. */
  workerPoolSize?: number;
  allowLoopbackHttp?: boolean;
  /** Install the bundled echo-notes skill through the API (default true). */
  installEchoNotes?: boolean;
  /** The LLM the workers talk to; default a replay of `transcript`. */
  llm?: LlmProviderSettings;
  /**
   * Capture the host's own redacting logger (at debug level) instead of a silent one, so a
   * test sees the log lines as the host writes them.
   */
  logDestination?: DestinationStream;
  /** The host's clock and the scheduler's timer (schedules driven by hand). */
  clock?: Clock;
  schedulerTimer?: WakeTimer;
  /** The retention sweep's timer (expired memory, old payloads), fired by hand. */
  retentionTimer?: WakeTimer;
  /** The renderer build the gateway serves (default none; the UI's browser tests pass one). */
  rendererDir?: string | null;
};

/** A real host (gateway on 127.0.0.1, SQLite, isolates, worker processes) with a replay LLM. */
export type AutonomyHost = {
  host: Host;
  started: StartedHost;
  dataDir: string;
  transcriptFile: string;
  request: (method: string, urlPath: string, json?: unknown) => Promise<ApiResponse>;
  /** `POST /v1/runs`; throws unless 201. */
  createRun: (body: Record<string, unknown>) => Promise<Run>;
  getRun: (id: string) => Promise<RunView>;
  /** Every chain entry of one run through `GET /v1/runs/{id}/chain`, in seq order. */
  runChain: (id: string, eventType?: ChainEventType) => Promise<ChainEntry[]>;
  /** Resolves once the run is in one of `states` (chain subscription, no sleeping). */
  waitForState: (id: string, states: readonly RunState[], timeoutMs?: number) => Promise<Run>;
  /** Resolves with the first entry (already on the chain or appended later) matching `match`. */
  waitForEntry: (match: (entry: ChainEntry) => boolean, timeoutMs?: number) => Promise<ChainEntry>;
  /**
   * Resolves once the run is terminal and its last segment has closed (the `segment.ended`
   * entry follows the run's final transition).
   */
  settle: (id: string, timeoutMs?: number) => Promise<Run>;
  installSkill: (dir: string) => Promise<void>;
  /** Stops the host and removes its data dir; safe to call twice. */
  stop: () => Promise<void>;
};

export const TERMINAL: readonly RunState[] = ['done', 'failed', 'cancelled'];

/** JSON requests to a gateway with a bearer token. */
export function apiRequester(
  url: string,
  token: string,
): (method: string, urlPath: string, json?: unknown) => Promise<ApiResponse> {
  return async (method, urlPath, json) => {
    const res = await fetch(`${url}${urlPath}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.status, body, text };
  };
}

export async function startAutonomyHost(options: AutonomyHostOptions): Promise<AutonomyHost> {
  const dataDir = await makeTempDir('ccos-autonomy-');
  // Outside the data dir: the transcript stands in for an LLM provider off this machine, and
  // tests search the data dir for what the host itself wrote.
  const llmDir = await makeTempDir('ccos-llm-');
  const transcriptFile = path.join(llmDir, 'transcript.json');
  await writeFile(transcriptFile, JSON.stringify(options.transcript));
  const host = new Host(
    parseHostConfig(
      {
        data_dir: dataDir,
        log_level: options.logDestination === undefined ? 'silent' : 'debug',
        gateway: { host: '127.0.0.1', port: 0, allow_non_loopback: false },
        skills: { allow_loopback_http: options.allowLoopbackHttp ?? false },
        agents: {
          llm: options.llm ?? { kind: 'replay', path: transcriptFile },
          max_concurrent: options.maxConcurrent ?? 4,
          ...(options.workerPoolSize === undefined
            ? {}
            : { worker_pool_size: options.workerPoolSize }),
        },
      },
      testHostEnv(),
    ),
    {
      ...(options.logDestination === undefined
        ? { logger: pino({ level: 'silent' }) }
        : { logDestination: options.logDestination }),
      policyPacks: [NO_OPERATION_APPROVALS, ...(options.packs ?? [])],
      ...(options.spawner === undefined ? {} : { spawner: options.spawner }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.schedulerTimer === undefined ? {} : { schedulerTimer: options.schedulerTimer }),
      ...(options.retentionTimer === undefined ? {} : { retentionTimer: options.retentionTimer }),
      rendererDir: options.rendererDir ?? null,
    },
  );
  let started: StartedHost;
  try {
    started = await host.start();
  } catch (e) {
    await removeTempDir(dataDir);
    await removeTempDir(llmDir);
    throw e;
  }
  const adminToken = (await readFile(started.adminTokenFile, 'utf8')).trim();
  const request = apiRequester(started.gateway.url, adminToken);
  const getRun = async (id: string): Promise<RunView> => {
    const res = await request('GET', `/v1/runs/${id}`);
    if (res.status !== 200) throw new Error(`GET run ${id}: ${res.status} ${res.text}`);
    return res.body as RunView;
  };
  const waitForEntry = (match: (entry: ChainEntry) => boolean, timeoutMs = RUN_TIMEOUT_MS) =>
    new Promise<ChainEntry>((resolve, reject) => {
      let done = false;
      const finish = (entry: ChainEntry | Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        void subscription.dispose();
        if (entry instanceof Error) reject(entry);
        else resolve(entry);
      };
      const timer = setTimeout(() => {
        finish(new Error(`no matching chain entry within ${timeoutMs} ms`));
      }, timeoutMs);
      // Subscribe first, then look at what is already there: nothing falls in between.
      const subscription = started.chain.subscribe((entries) => {
        const hit = entries.find(match);
        if (hit !== undefined) finish(hit);
      });
      void (async () => {
        let after = 0;
        for (;;) {
          const page = await started.chain.query({ after_seq: after, limit: 1000 });
          const hit = page.entries.find(match);
          if (hit !== undefined) {
            finish(hit);
            return;
          }
          if (page.next_after_seq === null) return;
          after = page.next_after_seq;
        }
      })().catch((e: unknown) => {
        finish(e instanceof Error ? e : new Error(String(e)));
      });
    });
  let stopped = false;
  const self: AutonomyHost = {
    host,
    started,
    dataDir,
    transcriptFile,
    request,
    createRun: async (body) => {
      // Runs that name no pack get the default one without its operation approvals (`pack`).
      const res = await request('POST', '/v1/runs', {
        policy_pack: NO_OPERATION_APPROVALS.id,
        ...body,
      });
      if (res.status !== 201) throw new Error(`POST /v1/runs: ${res.status} ${res.text}`);
      return res.body as Run;
    },
    getRun,
    runChain: async (id, eventType) => {
      const entries: ChainEntry[] = [];
      let after = 0;
      for (;;) {
        const res = await request('GET', `/v1/runs/${id}/chain?after_seq=${after}&limit=500`);
        if (res.status !== 200) throw new Error(`GET chain: ${res.status} ${res.text}`);
        const page = res.body as { entries: ChainEntry[]; next_after_seq: number | null };
        entries.push(...page.entries);
        if (page.next_after_seq === null) break;
        after = page.next_after_seq;
      }
      return eventType === undefined ? entries : entries.filter((e) => e.event_type === eventType);
    },
    waitForState: (id, states, timeoutMs = RUN_TIMEOUT_MS) =>
      new Promise<Run>((resolve, reject) => {
        let done = false;
        const finish = (result: Run | Error): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          void subscription.dispose();
          if (result instanceof Error) reject(result);
          else resolve(result);
        };
        const settle = (): void => {
          getRun(id).then(
            (view) => {
              finish(view.run);
            },
            (e: unknown) => {
              finish(e instanceof Error ? e : new Error(String(e)));
            },
          );
        };
        const timer = setTimeout(() => {
          void getRun(id).then((view) => {
            finish(
              new Error(
                `run ${id} did not reach ${states.join('|')} within ${timeoutMs} ms: ${view.run.state} (${view.run.state_reason ?? ''})`,
              ),
            );
          });
        }, timeoutMs);
        // Subscribe first, then read the state: no transition falls in between.
        const subscription = started.chain.subscribe((entries) => {
          const hit = entries.some(
            (e) =>
              e.run_id === id &&
              e.event_type === 'run.transition' &&
              states.includes(e.data.to as RunState),
          );
          if (hit) settle();
        });
        void getRun(id).then(
          (view) => {
            if (states.includes(view.run.state)) finish(view.run);
          },
          (e: unknown) => {
            finish(e instanceof Error ? e : new Error(String(e)));
          },
        );
      }),
    waitForEntry,
    settle: async (id, timeoutMs = RUN_TIMEOUT_MS) => {
      await self.waitForState(id, TERMINAL, timeoutMs);
      const started = await self.runChain(id, 'segment.started');
      const last = started.at(-1);
      if (last !== undefined) {
        await waitForEntry(
          (e) =>
            e.run_id === id &&
            e.event_type === 'segment.ended' &&
            e.data.segment === last.data.segment,
          timeoutMs,
        );
      }
      return (await getRun(id)).run;
    },
    installSkill: async (dir) => {
      const res = await request('POST', '/v1/skills', { path: dir });
      if (res.status !== 201) throw new Error(`install ${dir}: ${res.status} ${res.text}`);
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await host.stop();
      await removeTempDir(dataDir);
      await removeTempDir(llmDir);
    },
  };
  if (options.installEchoNotes ?? true) {
    try {
      await self.installSkill(ECHO_NOTES_DIR);
    } catch (e) {
      await self.stop();
      throw e;
    }
  }
  return self;
}

/** `ccos <args>` as a child process against this host, with its admin token. */
export function hostCli(host: AutonomyHost): (...args: string[]) => Promise<CliResult> {
  return (...args) =>
    runCli([
      '--url',
      host.started.gateway.url,
      '--token-file',
      path.join(host.dataDir, ADMIN_TOKEN_FILE),
      ...args,
    ]);
}
