import type { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Implementation } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { McpClientWindow } from './mcp-client-window.ts';
import type { McpPeer } from './mcp-tool-call.ts';
import type { Principal } from '../../auth/token-service.ts';
import type { ConnectorRecords } from '../../connectors/connector-records.ts';
import type { Disposable } from '../../disposable.ts';
import { DEFAULT_POLICY_PACK, type PolicyPacks } from '../../policy/policy-packs.ts';
import type { ExternalRun, ExternalRuns } from '../../runs/external-run.ts';

/** An MCP session idles out after this long with no request, when its pack does not say. */
export const DEFAULT_MCP_IDLE_TIMEOUT_MS = 30 * 60 * 1000;

/** Longest goal made from a client's declared name: the goal is a label, not the client's text. */
const MAX_GOAL = 500;

/** The SDK server as a session uses it. */
export type McpSessionServer = McpPeer & { getClientVersion: () => Implementation | undefined };

export type McpSessionDeps = {
  externalRuns: ExternalRuns;
  connectors: ConnectorRecords;
  policies: PolicyPacks;
  logger: Logger;
};

/**
 * One MCP session and the run it drives (issue 25): the run is opened once the client has
 * said who it is, under the pack and budget caps of the token's connector record, and ends
 * `done` (`mcp_session_closed`) when the client closes the session, when it idles out, when
 * its token is revoked, or (at start-up recovery) when the host that held it stopped.
 */
export class McpSession {
  readonly #deps: McpSessionDeps;
  readonly principal: Principal;
  readonly server: McpSessionServer;
  readonly transport: WebStandardStreamableHTTPServerTransport;
  readonly #onEnd: () => void;
  #run: Promise<ExternalRun> | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #idleMs = DEFAULT_MCP_IDLE_TIMEOUT_MS;
  #busy = 0;
  /** The requests' work in flight, so an end that aborts them can wait for their last entries. */
  readonly #work = new Set<Promise<unknown>>();
  readonly #ending = new AbortController();
  #ended: Promise<void> | undefined;
  /** What the host gave this session: the window its calls are judged by (issue 22). */
  readonly window: McpClientWindow;
  /** The registry subscription that tells the client `tools/list_changed`. */
  subscription: Disposable | undefined;

  constructor(
    deps: McpSessionDeps,
    parts: {
      principal: Principal;
      server: McpSessionServer;
      transport: WebStandardStreamableHTTPServerTransport;
      onEnd: () => void;
    },
  ) {
    this.#deps = deps;
    this.principal = parts.principal;
    this.server = parts.server;
    this.transport = parts.transport;
    this.#onEnd = parts.onEnd;
    this.window = new McpClientWindow(() => clientNameOf(this.server));
  }

  /** Aborted, with the reason, when the session ends: its calls stop waiting for a person. */
  get ending(): AbortSignal {
    return this.#ending.signal;
  }

  /** The session's run, opened on first need (once the client is initialized). */
  run(): Promise<ExternalRun> {
    this.#run ??= this.#open();
    return this.#run;
  }

  async #open(): Promise<ExternalRun> {
    const limits = await this.#deps.connectors.limitsFor(this.principal.connector_id);
    const pack = limits.allowed_packs[0] ?? DEFAULT_POLICY_PACK.id;
    this.#idleMs = this.#deps.policies.get(pack).mcp_idle_timeout_ms ?? DEFAULT_MCP_IDLE_TIMEOUT_MS;
    this.touch();
    return this.#deps.externalRuns.open(
      { goal: goalOf(this.server), policy_pack: pack, budget_caps: limits.budget_caps },
      { actor: this.principal.actor },
    );
  }

  /** A request arrived: the idle clock starts again. */
  touch(): void {
    if (this.#ended !== undefined) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      // A call still in flight (waiting for a person, say) is not idleness.
      if (this.#busy > 0) this.touch();
      else void this.end(`idle for ${this.#idleMs} ms`, { closeTransport: true });
    }, this.#idleMs);
    // The host's stop must not wait for it: recovery ends the run after a restart.
    this.#idleTimer.unref();
  }

  /** Runs one request's work as busy, so the session cannot idle out under it. */
  async busy<T>(work: () => Promise<T>): Promise<T> {
    this.#busy += 1;
    const running = work();
    this.#work.add(running);
    try {
      return await running;
    } finally {
      this.#work.delete(running);
      this.#busy -= 1;
      this.touch();
    }
  }

  /**
   * Ends the session and its run, once. `closeTransport` is false when the transport is the
   * one closing (the client's DELETE): it answers that request itself.
   */
  end(why: string, options: { closeTransport: boolean; actor?: string }): Promise<void> {
    this.#ended ??= this.#end(why, options);
    return this.#ended;
  }

  async #end(why: string, options: { closeTransport: boolean; actor?: string }): Promise<void> {
    clearTimeout(this.#idleTimer);
    this.#onEnd();
    await this.subscription?.dispose();
    try {
      this.#ending.abort(why);
      if (options.closeTransport) {
        // The calls in flight answer first, while their streams are open: a closed stream
        // leaves the SDK client reconnecting to a host that is gone, its call never settled.
        // Their last entries are also written before the run ends and before a stopping
        // host's store closes under them.
        await Promise.allSettled(this.#work);
        await new Promise((resolve) => setImmediate(resolve));
        await this.transport.close();
      }
      const run = await this.#run?.catch(() => undefined);
      await run?.close(why, { actor: options.actor ?? 'host' });
    } catch (e) {
      // The host may be stopping under it; start-up recovery then ends the run.
      this.#deps.logger.warn({ err: e }, 'an MCP session did not end cleanly');
    }
  }
}

/** The run's goal: the client's declared name, version and title, as a plain one-line label. */
function goalOf(server: McpSessionServer): string {
  const info = server.getClientVersion();
  const title = info?.title === undefined ? '' : `: ${info.title}`;
  return oneLine(`MCP session of ${clientNameOf(server)}${title}`).slice(0, MAX_GOAL);
}

/** The client's declared name and version, as approvals and the goal show it. */
function clientNameOf(server: McpSessionServer): string {
  const info = server.getClientVersion();
  return oneLine(info === undefined ? 'an unnamed client' : `${info.name} ${info.version}`);
}

/** Declared by the client: control characters would break the line it is shown on. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
}
