import { AppError } from '../../errors.ts';
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
  const origin = checkEgressOrigin(url.origin, options.allowLoopbackHttp);
  if (!origin.ok) throw skillInvalid(label, 'url', origin.reason, 'use an https URL');

  const timeoutMs = options.timeoutMs ?? DOCUMENT_FETCH_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  const doFetch = options.fetch ?? fetch;
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
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
    const location = response.headers.get('location');
    if (REDIRECTS.has(response.status) && location !== null) {
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
      current = next;
      continue;
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new AppError('SKILL_HTTP_FAILED', `fetching ${label} answered HTTP ${response.status}`);
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
    return { url: label, text, format };
  }
  throw skillInvalid(
    label,
    'url',
    `redirects more than ${MAX_REDIRECTS} times`,
    'pass the final URL',
  );
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
