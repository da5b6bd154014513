import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { UI_CSRF_HEADER, UI_SESSION_COOKIE } from '../../../contracts/ui.ts';
import type { Run } from '../../../contracts/runs.ts';
import type { TokenScope } from '../../../contracts/tokens.ts';
import type { AuthFailure, Principal, TokenService } from '../../auth/token-service.ts';
import type { CausalChain } from '../../chain/causal-chain.ts';
import { AppError, isAppError } from '../../errors.ts';
import type { RunService } from '../../runs/run-service.ts';
import type { SessionService } from '../../runs/session-service.ts';
import type { GatewayEnv } from './gateway-env.ts';
import { UiSessions } from './ui-sessions.ts';

type DenyReason =
  | AuthFailure
  | 'admin_only'
  | 'missing_scope'
  | 'not_owner'
  | 'foreign_host'
  | 'foreign_origin'
  | 'unknown_session'
  | 'csrf_mismatch'
  | 'cross_site'
  | 'pack_not_allowed';

/** Methods that change state: a cookie session must prove the page sent them (CSRF). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** `Sec-Fetch-Site` values of requests the UI's own pages (or the person, typing) make. */
const OWN_FETCH_SITES = new Set(['same-origin', 'none']);

/** Names a browser or client uses for this machine's loopback interface. */
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

const MAX_AUDITED_PATH = 200;

/**
 * Who may do what (ARCHITECTURE.md §5). Every refusal is written to the chain as
 * `auth.denied` — with the token's id when known, never the token — before the caller
 * hears of it. A non-admin asking for a run it may not see gets the same 403 whether the
 * run exists or not, so a refusal tells nothing about what exists.
 */
export type AccessControlDeps = {
  tokens: TokenService;
  chain: CausalChain;
  runs: RunService;
  sessions: SessionService;
  /** How a run is read for an access check (the gateway passes its cached read). */
  readRun: (runId: string) => Promise<Run>;
  /** Browser sessions of the UI; absent: only bearer tokens authenticate. */
  uiSessions?: UiSessions;
};

export class AccessControl {
  readonly #deps: AccessControlDeps;

  constructor(deps: AccessControlDeps) {
    this.#deps = deps;
  }

  /**
   * Middleware, before any other check: refuses a request addressed to another host name
   * (DNS rebinding: a web page whose name resolves to 127.0.0.1 reaching this API) or sent
   * by a page of another origin (`Origin` is set by browsers on cross-origin requests).
   * Requests from the CLI and other programs carry the loopback `Host` and no `Origin`.
   * With a non-loopback bind (`allowAnyHost`) the host name cannot be known, so only the
   * origin is checked.
   */
  guardOrigin(options: { allowAnyHost: boolean }) {
    return createMiddleware<GatewayEnv>(async (c, next) => {
      const host = c.req.header('host')?.toLowerCase();
      const port = (c.env as Partial<HttpBindings> | undefined)?.incoming?.socket.localPort;
      const ownHost =
        host !== undefined &&
        port !== undefined &&
        LOOPBACK_NAMES.some((name) => host === `${name}:${port}`);
      if (!options.allowAnyHost && !ownHost) {
        await this.#audit(c, 'foreign_host', { host: (host ?? '').slice(0, 100) });
        throw new AppError(
          'FORBIDDEN',
          'this gateway answers only requests addressed to its own loopback address',
        );
      }
      const origin = c.req.header('origin');
      if (origin !== undefined && origin !== `http://${host ?? ''}`) {
        await this.#audit(c, 'foreign_origin', { origin: origin.slice(0, 100) });
        throw new AppError('FORBIDDEN', 'requests from another origin are refused');
      }
      await next();
    });
  }

  /** Middleware: a valid bearer token, or the UI's session cookie, or a 401. */
  readonly authenticate = createMiddleware<GatewayEnv>(async (c, next) => {
    const header = c.req.header('authorization');
    const cookie =
      header === undefined && this.#deps.uiSessions !== undefined
        ? getCookie(c, UI_SESSION_COOKIE)
        : undefined;
    if (cookie !== undefined && this.#deps.uiSessions !== undefined) {
      await this.#authenticateSession(c, this.#deps.uiSessions, cookie);
      await next();
      return;
    }
    const presented =
      header?.startsWith('Bearer ') === true ? header.slice('Bearer '.length).trim() : header;
    const result = await this.#deps.tokens.authenticate(presented);
    if (!result.ok) {
      await this.#audit(c, result.reason, undefined, result.token_id);
      c.header('www-authenticate', 'Bearer');
      throw new AppError('UNAUTHORIZED', messageFor(result.reason));
    }
    c.set('principal', result.principal);
    c.set('uiSession', undefined);
    await next();
  });

  /**
   * A browser session acts as the admin, so it gets the checks a bearer token does not need:
   * cookies go with every request the browser makes to 127.0.0.1, whichever page asked for
   * it (SameSite does not separate ports). A request another site's page caused
   * (`Sec-Fetch-Site` cross-site or same-site, e.g. `<img src>` from another loopback port)
   * is refused before anything is read, and a state change needs the CSRF token that only
   * the UI's own pages can read from `GET /v1/ui/session`.
   */
  async #authenticateSession(
    c: Context<GatewayEnv>,
    sessions: UiSessions,
    cookie: string,
  ): Promise<void> {
    const session = sessions.lookup(cookie);
    if (session === undefined) {
      await this.#audit(c, 'unknown_session');
      throw new AppError(
        'UNAUTHORIZED',
        'the browser session has ended or is unknown; run `ccos open` for a new login link',
      );
    }
    const site = c.req.header('sec-fetch-site');
    if (site !== undefined && !OWN_FETCH_SITES.has(site)) {
      await this.#audit(c, 'cross_site', { sec_fetch_site: site.slice(0, 40) }, session.id);
      throw new AppError('FORBIDDEN', 'requests caused by another site are refused');
    }
    if (
      !SAFE_METHODS.has(c.req.method) &&
      !UiSessions.csrfMatches(session, c.req.header(UI_CSRF_HEADER))
    ) {
      await this.#audit(c, 'csrf_mismatch', undefined, session.id);
      throw new AppError(
        'FORBIDDEN',
        `a state-changing request from the UI must carry its ${UI_CSRF_HEADER} token`,
      );
    }
    c.set('principal', {
      kind: 'admin',
      token_id: session.id,
      scopes: [],
      connector_id: null,
      run_id: null,
      actor: 'admin',
      expires_at: session.expiresAt.toISOString(),
    });
    c.set('uiSession', session);
  }

  async requireAdmin(c: Context<GatewayEnv>): Promise<Principal> {
    const principal = c.get('principal');
    if (principal.kind !== 'admin')
      await this.#deny(c, 'admin_only', 'only an admin token may do this');
    return principal;
  }

  async requireScope(c: Context<GatewayEnv>, scope: TokenScope): Promise<Principal> {
    const principal = c.get('principal');
    if (principal.kind !== 'admin' && !principal.scopes.includes(scope)) {
      await this.#deny(c, 'missing_scope', `this token lacks the ${scope} scope`, { scope });
    }
    return principal;
  }

  /** The run, if the caller may act on it with `scope`; else 403 (404 only for admins). */
  async requireRun(c: Context<GatewayEnv>, runId: string, scope: TokenScope): Promise<Run> {
    const principal = await this.requireScope(c, scope);
    const run = await this.#deps.readRun(runId).catch((e: unknown) => {
      if (isAppError(e, 'NOT_FOUND')) return undefined;
      throw e;
    });
    if (principal.kind === 'admin') {
      if (run === undefined) throw new AppError('NOT_FOUND', `run ${runId} not found`);
      return run;
    }
    if (run === undefined || !owns(principal, run)) {
      await this.#deny(c, 'not_owner', 'this token may not access that run', { run_id: runId });
    }
    return run as Run;
  }

  /**
   * A non-admin may use (start runs in, read) only a session it owns: the principal that
   * created it, as stored on the session (issue 17 #22). Any other session, existing or
   * not, is the same audited 403.
   */
  async requireSession(c: Context<GatewayEnv>, sessionId: string): Promise<void> {
    const principal = c.get('principal');
    if (principal.kind === 'admin') return;
    const session = await this.#deps.sessions.get(sessionId).catch((e: unknown) => {
      if (isAppError(e, 'NOT_FOUND')) return undefined;
      throw e;
    });
    if (session?.owner !== principal.actor) {
      await this.#deny(c, 'not_owner', 'this token may not use that session', {
        session_id: sessionId,
      });
    }
  }

  /**
   * Records a refusal the route answers itself (the MCP endpoint's 404 for another
   * principal's session id, which must look like an unknown id to the caller).
   */
  async auditDenied(
    c: Context<GatewayEnv>,
    reason: 'not_owner' | 'unknown_session',
    extra?: object,
  ): Promise<void> {
    await this.#audit(c, reason, extra, c.get('principal').token_id);
  }

  /**
   * A non-admin may name only a policy pack its connector record allows (issue 17 #13): a
   * connector token must not pick a laxer pack than the person gave its connector.
   */
  async requirePolicyPack(
    c: Context<GatewayEnv>,
    allowed: readonly string[],
    pack: string,
  ): Promise<void> {
    if (c.get('principal').kind === 'admin' || allowed.includes(pack)) return;
    await this.#deny(
      c,
      'pack_not_allowed',
      `this connector may use the policy packs ${allowed.join(', ')}, not "${pack}"`,
      { policy_pack: pack.slice(0, 100) },
    );
  }

  /** True when a principal may see events of this run. */
  static canSee(principal: Principal, run: Pick<Run, 'id' | 'created_by'>): boolean {
    return principal.kind === 'admin' || owns(principal, run);
  }

  async #deny(
    c: Context<GatewayEnv>,
    reason: DenyReason,
    message: string,
    extra?: object,
  ): Promise<never> {
    await this.#audit(c, reason, extra, c.get('principal').token_id);
    throw new AppError('FORBIDDEN', message);
  }

  async #audit(
    c: Context<GatewayEnv>,
    reason: DenyReason,
    extra?: object,
    tokenId?: string,
  ): Promise<void> {
    const principal = c.get('principal') as Principal | undefined;
    await this.#deps.chain.append({
      event_type: 'auth.denied',
      actor: principal?.actor ?? 'anonymous',
      correlation_id: c.get('correlationId'),
      rule_id: `auth.${reason}`,
      data: {
        reason,
        method: c.req.method,
        path: c.req.path.slice(0, MAX_AUDITED_PATH),
        ...(tokenId === undefined ? {} : { token_id: tokenId }),
        ...extra,
      },
    });
  }
}

function owns(principal: Principal, run: Pick<Run, 'id' | 'created_by'>): boolean {
  if (principal.kind === 'agent_session') return principal.run_id === run.id;
  return principal.kind === 'connector' && run.created_by === principal.actor;
}

function messageFor(reason: AuthFailure): string {
  switch (reason) {
    case 'missing_token':
      return 'a bearer token is required (Authorization: Bearer <token>)';
    case 'malformed_token':
    case 'unknown_token':
      return 'the token is not valid';
    case 'revoked_token':
      return 'the token was revoked';
    case 'expired_token':
      return 'the token has expired';
  }
}
