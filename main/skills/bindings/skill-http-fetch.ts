import {
  headerValueSchema,
  skillFetchRequestSchema,
  type EgressRule,
  type HttpMethod,
  type SecretGrant,
  type SkillFetchResponse,
} from '../../../contracts/skills.ts';
import type { PolicyDecision } from '../../../contracts/policy.ts';
import { newRequestId, type EgressResult, type EgressTarget } from '../../chain/egress-audit.ts';
import { AppError, invalidInput, isAppError } from '../../errors.ts';
import { networkCause } from '../../network-cause.ts';
import { originOf } from '../manifest/egress-origin.ts';
import type { SecretResolver } from './skill-host-deps.ts';

/** Limits of one `ccos.http.fetch` call. */
export type HttpLimits = {
  timeoutMs: number;
  maxResponseBytes: number;
  maxRequestBodyBytes: number;
  maxRedirects: number;
};

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  timeoutMs: 5_000,
  maxResponseBytes: 512 * 1024,
  maxRequestBodyBytes: 256 * 1024,
  maxRedirects: 5,
};

/** One request sent on the skill's behalf, for the audit record. */
export type FetchHop = { origin: string; method: HttpMethod; status?: number; secrets: string[] };

/**
 * The egress audit of one `ccos.http.fetch`: `attempt` before each request leaves (if it
 * throws, the request is not sent), `outcome` after it ended, `refused` for a request the
 * rules stopped before it left, with the rule that did.
 */
export type EgressRecorder = {
  attempt: (target: EgressTarget) => Promise<void>;
  outcome: (target: EgressTarget, result: EgressResult) => Promise<void>;
  refused: (target: EgressTarget, rule_id: string, error: AppError) => Promise<void>;
};

export type SkillFetchContext = {
  egress: readonly EgressRule[];
  /** Each declared secret with the origins it may be sent to. */
  declaredSecrets: readonly SecretGrant[];
  resolveSecret: SecretResolver;
  limits: HttpLimits;
  signal: AbortSignal;
  fetch: typeof fetch;
  /** Filled as requests go out, so a refusal mid-redirect is still audited. */
  hops: FetchHop[];
  record: EgressRecorder;
  /**
   * The run's pack rules on a request to `origin`, after the manifest allowed it: a deny
   * (or an approval the rules would ask for, which a binding cannot wait for) refuses it.
   */
  packRules?: (origin: string) => PolicyDecision;
};

/** Rules that refuse a request before it leaves, as `rule_id` on the audit entry. */
const RULE_ALLOWLIST = 'egress.allowlist';
const RULE_HEADERS = 'egress.headers';
const RULE_SECRETS = 'egress.secrets';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers the host sets itself; a skill choosing them could smuggle requests or break framing. */
const FORBIDDEN_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'keep-alive',
]);
const REDACTED = '[REDACTED]';

/**
 * `ccos.http.fetch`: sends a request only to a declared origin with a declared method,
 * substitutes `{ "$secret": NAME }` header values on the host, follows redirects by hand
 * (each hop re-checked, secrets never forwarded to another origin), bounds time and size,
 * and scrubs the secret values from what comes back so skill code never sees them.
 */
export async function skillHttpFetch(
  raw: unknown,
  ctx: SkillFetchContext,
): Promise<SkillFetchResponse> {
  const parsed = skillFetchRequestSchema.safeParse(raw);
  if (!parsed.success) throw invalidInput('ccos.http.fetch request', parsed.error.issues);
  const request = parsed.data;
  if (
    request.body !== undefined &&
    Buffer.byteLength(request.body) > ctx.limits.maxRequestBodyBytes
  ) {
    throw new AppError(
      'PAYLOAD_TOO_LARGE',
      `request body is over ${ctx.limits.maxRequestBodyBytes} bytes`,
    );
  }
  const firstOrigin = originOf(request.url);
  const used: string[] = [];
  let url = request.url;
  let method: HttpMethod = request.method;
  let body = request.body;
  const timeout = AbortSignal.timeout(ctx.limits.timeoutMs);
  const signal = AbortSignal.any([ctx.signal, timeout]);

  for (let hop = 0; hop <= ctx.limits.maxRedirects; hop++) {
    const origin = originOf(url);
    const secretsHere: string[] = [];
    const target: EgressTarget = {
      request_id: newRequestId(),
      purpose: 'skill.http',
      url,
      method,
      hop,
      secrets: secretsHere,
    };
    const refuse = async (rule: string, error: AppError): Promise<never> => {
      await ctx.record.refused(target, rule, error);
      throw error;
    };
    const rule =
      origin === undefined ? undefined : ctx.egress.find((r) => originOf(r.origin) === origin);
    if (origin === undefined || rule === undefined) {
      return refuse(
        RULE_ALLOWLIST,
        new AppError(
          'SKILL_EGRESS_DENIED',
          `${hop === 0 ? 'origin' : 'redirect target'} ${origin ?? '(not http)'} is not declared in permissions.egress`,
        ),
      );
    }
    if (!rule.methods.includes(method))
      return refuse(
        RULE_ALLOWLIST,
        new AppError(
          'SKILL_EGRESS_DENIED',
          `${method} to ${origin} is not declared in permissions.egress`,
        ),
      );
    // The manifest says where the skill may reach; the run's pack may still refuse it there.
    const byRules = ctx.packRules?.(origin);
    if (byRules !== undefined && byRules.effect !== 'allow')
      return refuse(byRules.rule_id, new AppError('SKILL_EGRESS_DENIED', byRules.reason));
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (FORBIDDEN_HEADERS.has(name.toLowerCase()))
        return refuse(
          RULE_HEADERS,
          new AppError(
            'SKILL_PERMISSION_DENIED',
            `header ${name} is set by the host, not by skills`,
          ),
        );
      if (typeof value === 'string') {
        headers.set(name, value);
        continue;
      }
      // Secrets go only to the origin the skill addressed; a redirect elsewhere loses them.
      if (origin !== firstOrigin) continue;
      const grant = ctx.declaredSecrets.find((g) => g.name === value.$secret);
      if (grant === undefined)
        return refuse(
          RULE_SECRETS,
          new AppError(
            'SKILL_PERMISSION_DENIED',
            `secret ${value.$secret} is not declared in permissions.secrets`,
          ),
        );
      // A secret goes only where it was declared for, not to every origin the skill may reach.
      if (!grant.origins.includes(origin))
        return refuse(
          RULE_SECRETS,
          new AppError(
            'SKILL_PERMISSION_DENIED',
            `secret ${value.$secret} is bound to ${grant.origins.join(', ')}, not ${origin}`,
          ),
        );
      const secret = await ctx.resolveSecret(value.$secret);
      if (secret === undefined)
        return refuse(
          RULE_SECRETS,
          new AppError('SKILL_PERMISSION_DENIED', `secret ${value.$secret} is not set`),
        );
      // The skill never saw this value, so its own checks could not catch it; say which secret,
      // never what it holds.
      if (!headerValueSchema.safeParse(secret).success)
        return refuse(
          RULE_SECRETS,
          new AppError(
            'SKILL_HTTP_FAILED',
            `secret ${value.$secret} cannot be sent in a header: it holds CR, LF, NUL or characters above U+00FF; set it again without them`,
          ),
        );
      headers.set(name, value.scheme === undefined ? secret : `${value.scheme} ${secret}`);
      used.push(secret);
      secretsHere.push(value.$secret);
    }
    const record: FetchHop = { origin, method, secrets: secretsHere };
    ctx.hops.push(record);
    // On the chain, committed, before anything leaves: a crash mid-request still shows it.
    await ctx.record.attempt(target);
    let response: Response;
    try {
      response = await ctx.fetch(url, {
        method,
        headers,
        body: method === 'GET' || method === 'HEAD' ? undefined : body,
        redirect: 'manual',
        signal,
      });
    } catch (e) {
      // The operating system's word for it (ECONNREFUSED, ENOTFOUND, a TLS code) is what a
      // person can act on; "failed" alone is not.
      const cause = timeout.aborted ? 'timed out' : networkCause(e);
      const error = new AppError(
        'SKILL_HTTP_FAILED',
        timeout.aborted
          ? `request to ${origin} timed out after ${ctx.limits.timeoutMs} ms`
          : `request to ${origin} failed (${cause})`,
        { origin, cause },
      );
      await ctx.record.outcome(target, { code: error.code, message: error.message });
      throw error;
    }
    record.status = response.status;
    const location = response.headers.get('location');
    if (REDIRECTS.has(response.status) && location !== null) {
      await response.body?.cancel();
      await ctx.record.outcome(target, { status: response.status });
      url = new URL(location, url).href;
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && method === 'POST')
      ) {
        method = 'GET';
        body = undefined;
      }
      continue;
    }
    let text: string;
    try {
      text = await readCapped(response, ctx.limits.maxResponseBytes, origin);
    } catch (e) {
      // A body that trickles past the limit or a connection cut mid-body is the remote's
      // failure, not the host's (issue 17 #26: it used to surface as INTERNAL).
      const error = isAppError(e)
        ? e
        : new AppError(
            'SKILL_HTTP_FAILED',
            timeout.aborted
              ? `response from ${origin} timed out after ${ctx.limits.timeoutMs} ms while reading the response body`
              : `response from ${origin} broke off while reading the response body: ${networkCause(e)}`,
          );
      await ctx.record.outcome(target, { status: response.status, code: error.code });
      throw error;
    }
    await ctx.record.outcome(target, { status: response.status, bytes: Buffer.byteLength(text) });
    const scrub = (s: string): string =>
      used.reduce((acc, secret) => (secret === '' ? acc : acc.split(secret).join(REDACTED)), s);
    const outHeaders: Record<string, string> = {};
    response.headers.forEach((v, k) => {
      outHeaders[k] = scrub(v);
    });
    return { status: response.status, headers: outHeaders, body: scrub(text) };
  }
  throw new AppError('SKILL_HTTP_FAILED', `more than ${ctx.limits.maxRedirects} redirects`);
}

/** Reads a response body as UTF-8, refusing (PAYLOAD_TOO_LARGE) once it passes `max` bytes. */
export async function readCapped(response: Response, max: number, origin: string): Promise<string> {
  if (response.body === null) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) break;
    const value = chunk.value;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new AppError('PAYLOAD_TOO_LARGE', `response from ${origin} is over ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
