import type { Taint } from '../../contracts/labels.ts';
import type { Label } from '../policy/labels.ts';

/** One thing the window held, as an approval names it. */
export type CallWindowSource = { name: string; step_id: string | null; label: Label; taint: Taint };

/**
 * The context window of the LLM answer that asked for a tool call (issue 22): the join of
 * everything the model saw, what it saw it from, and for each argument the untrusted sources
 * holding it literally. The taint gate and the egress-by-label rule judge the call by it.
 */
export type CallWindow = {
  label: Label;
  taint: Taint;
  sources: readonly CallWindowSource[];
  /** Argument name → untrusted sources holding it literally, or `["the window"]`. */
  argument_sources: Readonly<Record<string, readonly string[]>>;
};
