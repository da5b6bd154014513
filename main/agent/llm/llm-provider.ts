import type { LlmCompleteRequest, LlmCompleteResult } from '../../../contracts/llm.ts';
import type { SecretResolver } from './api-key.ts';

/** Per-call options the gateway passes with each completion. */
export type LlmCallOptions = {
  /** Aborts the HTTP request (run cancelled, segment over); the call then fails with `LLM_ABORTED`. */
  signal?: AbortSignal;
};

/**
 * One LLM behind the gateway. `complete` either resolves with a result whose `usage` is to
 * be charged to the run, or rejects with an `AppError` coded `LLM_*` (or `INVALID_INPUT`
 * for a bad replay transcript) whose message never contains the API key.
 */
export type LlmProvider = {
  /** Names the provider and model in logs and chain entries, e.g. `openai_compatible:llama3`. */
  readonly id: string;
  complete(request: LlmCompleteRequest, options?: LlmCallOptions): Promise<LlmCompleteResult>;
};

/** What providers need from the host. */
export type LlmProviderDeps = {
  /** Reads a secret by name; the value goes into the provider's auth header and nowhere else. */
  resolveSecret: SecretResolver;
  /** Reads a replay transcript; defaults to `fs.readFile(path, 'utf8')`. */
  readFile?: (path: string) => Promise<string>;
  /**
   * Where a replay resumes: the number of answers the run already got (its `llm.call`
   * entries), asked once before the first call, so a restarted host continues the script.
   */
  replayStartAt?: () => Promise<number>;
  /** Per-attempt HTTP timeout; defaults to `LLM_TIMEOUT_MS`. */
  timeoutMs?: number;
  /** SDK retries per call; defaults to `LLM_MAX_RETRIES`. */
  maxRetries?: number;
};

/** Long enough for a slow local model to answer a large prompt; the segment's own time limit is usually shorter. */
export const LLM_TIMEOUT_MS = 120_000;
/**
 * One quick retry for a dropped connection or a 5xx. The run's retry budget is the real
 * limit, so the SDKs' default of two retries with backoff would only hide failures from it.
 */
export const LLM_MAX_RETRIES = 1;
