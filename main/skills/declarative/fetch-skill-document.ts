import type { EgressAttempt, EgressResult } from '../../chain/egress-audit.ts';
import { AppError, isAppError } from '../../errors.ts';
import { networkCause } from '../../network-cause.ts';
import { checkEgressOrigin } from '../manifest/egress-origin.ts';
import { readCapped } from '../bindings/skill-http-fetch.ts';
import { skillInvalid } from '../manifest/skill-invalid.ts';
import { MAX_DOCUMENT_BYTES, type DeclarativeFormat } from './compile-declarative-skill.ts';

/** How long fetching one skill document may take. */
export const DOCUMENT_FETCH_TIMEOUT_MS = 10_000;
/** Same-origin redirects followed (e.g. `/skill.md` → `/skill.md?v=2`). */
const MAX_REDIRECTS = 3;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const YAML_TYPES = new Set(['application/yaml', 'text/yaml', 'application/x-yaml', 'text/x-yaml']);
const TEXT_TYPES = new Set(['text/markdown', 'text/x-markdown', 'text/plain']);

export type DocumentFetchOptions = {
  allowLoopbackHttp: boolean;
  /** Accept an HTML page (it must still compile as a skill). */
  force: boolean;
  maxBytes?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /**
   * The caller's egress audit: called before each request (the first and every redirect
   * hop), which waits for it and is not sent when it throws; told how the request ended.
   */
  audit?: (url: URL, hop: number) => Promise<EgressAttempt>;
};

/** A fetched document, ready for the compiler. */
export type FetchedDocument = { url: string; text: string; format: DeclarativeFormat };

/**
 * Fetches a skill document for `POST /v1/skills {url}`: https only (plain http only to
 * loopback when the gateway allows it), no credentials in the URL, redirects only within
 * the same origin, a time and a size limit, and a content type that can be a skill
 * document. A web page (text/html) is refused as "not a skill document" unless forced —
 * PEER-LESSONS: people passed tweet URLs to the skill loader.
 */
export async function fetchSkillDocument(
  raw: string,
  options: DocumentFetchOptions,
): Promise<FetchedDocument> {
  const url = checkSkillDocumentUrl(raw, options.allowLoopbackHttp);
  const label = `${url.origin}${url.pathname}`;
  const timeoutMs = options.timeoutMs ?? DOCUMENT_FETCH_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const attempt = await options.audit?.(current, hop);
    const seen: { status?: number } = {};
    const step = await fetchOnce(current, url, label, options, signal, timeoutMs, seen).catch(
      async (e: unknown) => {
        await attempt?.outcome({ ...seen, ...failureOf(e) });
        throw e;
      },
    );
    await attempt?.outcome(step.result);
    if ('next' in step) {
      current = step.next;
      continue;
    }
    return step.document;
  }
  throw skillInvalid(
    label,
    'url',
    `redirects more than ${MAX_REDIRECTS} times`,
    'pass the final URL',
  );
}

/** One request's answer: a redirect to follow, or the document; with what the audit records. */
type FetchStep = { result: EgressResult } & ({ next: URL } | { document: FetchedDocument });

/** Sends one request of `fetchSkillDocument` and reads (or refuses) its answer. */
async function fetchOnce(
  current: URL,
  url: URL,
  label: string,
  options: DocumentFetchOptions,
  signal: AbortSignal,
  timeoutMs: number,
  /** Filled as soon as an answer's status is known, for the audit of a refused answer. */
  seen: { status?: number },
): Promise<FetchStep> {
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(current, {
      redirect: 'manual',
      signal,
      headers: { accept: 'text/markdown, application/yaml, text/yaml, text/plain;q=0.5' },
    });
  } catch (e) {
    const cause = signal.aborted ? 'timed out' : networkCause(e);
    throw new AppError(
      'SKILL_HTTP_FAILED',
      signal.aborted
        ? `fetching ${label} timed out after ${timeoutMs} ms`
        : `fetching ${label} failed (${cause})`,
      { url: label, cause },
    );
  }
  const status = response.status;
  seen.status = status;
  const location = response.headers.get('location');
  if (REDIRECTS.has(status) && location !== null) {
    await response.body?.cancel();
    const next = new URL(location, current);
    // Another origin was not what the admin named; it could be anything.
    if (next.origin !== url.origin)
      throw skillInvalid(
        label,
        'url',
        `redirects to another origin (${next.origin})`,
        'pass the final URL',
      );
    return { next, result: { status } };
  }
  if (status !== 200) {
    await response.body?.cancel();
    throw new AppError('SKILL_HTTP_FAILED', `fetching ${label} answered HTTP ${status}`);
  }
  const format = formatOf(
    response.headers.get('content-type'),
    current.pathname,
    label,
    options.force,
  );
  const max = options.maxBytes ?? MAX_DOCUMENT_BYTES;
  if (Number(response.headers.get('content-length') ?? '0') > max) {
    await response.body?.cancel();
    throw new AppError('PAYLOAD_TOO_LARGE', `${label} is over ${max} bytes`);
  }
  const text = await readCapped(response, max, label);
  return {
    document: { url: label, text, format },
    result: { status, bytes: Buffer.byteLength(text) },
  };
}

/** What the audit records of a request that failed or whose answer was refused. */
function failureOf(e: unknown): EgressResult {
  return isAppError(e) ? { code: e.code, message: e.message } : { code: 'INTERNAL' };
}

/**
 * The checks a skill document URL must pass before anything is fetched (or anyone is asked
 * to allow the fetch): a URL, no credentials in it, https (plain http only to loopback when
 * the gateway allows it). Returns the parsed URL; SKILL_INVALID names what is wrong.
 */
export function checkSkillDocumentUrl(raw: string, allowLoopbackHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw skillInvalid(
      raw.slice(0, 200),
      'url',
      'is not a URL',
      'pass an https URL of a skill.md or skill.yaml',
    );
  }
  const label = `${url.origin}${url.pathname}`;
  if (url.username !== '' || url.password !== '')
    throw skillInvalid(label, 'url', 'carries credentials', 'remove user:password from the URL');
  const origin = checkEgressOrigin(url.origin, allowLoopbackHttp);
  if (!origin.ok) throw skillInvalid(label, 'url', origin.reason, 'use an https URL');
  return url;
}

function formatOf(
  contentType: string | null,
  pathname: string,
  label: string,
  force: boolean,
): DeclarativeFormat {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (YAML_TYPES.has(type)) return 'yaml';
  if (TEXT_TYPES.has(type)) return /\.ya?ml$/i.test(pathname) ? 'yaml' : 'markdown';
  if (type === 'text/html' && force) return 'markdown';
  throw skillInvalid(
    label,
    'content-type',
    type === 'text/html'
      ? 'is text/html: a web page, not a skill document'
      : `is "${type || '(none)'}", which is not a skill document type`,
    'pass the URL of a skill.md or skill.yaml (served as text/markdown, text/plain or application/yaml); use force only for a page you know is a skill',
  );
}
