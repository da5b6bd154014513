import { z } from 'zod';

/**
 * The desktop UI's session (issue 24): how a browser or the Electron window signs in with a
 * one-time link and proves, on each state-changing request, that the page itself sent it.
 */

/** HttpOnly, SameSite=Strict cookie holding the browser's session secret. */
export const UI_SESSION_COOKIE = 'ccos_session';

/** Header carrying the session's CSRF token on every POST, PUT, PATCH and DELETE. */
export const UI_CSRF_HEADER = 'x-ccos-csrf';

/** Where a login link points: `GET /login?code=…` exchanges the code for the cookie. */
export const UI_LOGIN_PATH = '/login';

export const loginLinkSchema = z.strictObject({
  /** Open once, within `expires_at`, in the browser that should be signed in. */
  url: z.url(),
  expires_at: z.string(),
});
export type LoginLink = z.infer<typeof loginLinkSchema>;

export const uiSessionInfoSchema = z.strictObject({
  /** Public id of this browser session (audit trail), not its secret. */
  session_id: z.string(),
  /** Send as `x-ccos-csrf` on every state-changing request. */
  csrf_token: z.string(),
  expires_at: z.string(),
  /** The chain's newest seq now: the live event stream starts after it. */
  head_seq: z.number().int().min(0),
});
export type UiSessionInfo = z.infer<typeof uiSessionInfoSchema>;

/** The link a login code makes on a gateway at `baseUrl` (`http://127.0.0.1:7427`). */
export function loginUrlOf(baseUrl: string, code: string): string {
  return `${baseUrl.replace(/\/$/, '')}${UI_LOGIN_PATH}?code=${encodeURIComponent(code)}`;
}

/** What Settings shows of the host: where its data is and what it runs agents with. */
export const hostInfoSchema = z.strictObject({
  version: z.string(),
  data_dir: z.string(),
  /** The LLM provider runs use; null when none is configured (runs wait in `pending`). */
  llm: z.strictObject({ kind: z.string(), model: z.string().nullable() }).nullable(),
  policy_packs: z.array(z.string()),
  /** How agent workers are confined; `safe: false` is shown in red. */
  isolation: z.strictObject({ label: z.string(), safe: z.boolean() }),
});
export type HostInfo = z.infer<typeof hostInfoSchema>;

/** The outcome of one small call to the configured LLM provider. */
export const llmTestResultSchema = z.strictObject({
  ok: z.boolean(),
  /** The provider's answer or its error, redacted. */
  message: z.string(),
  code: z.string().nullable(),
});
export type LlmTestResult = z.infer<typeof llmTestResultSchema>;
