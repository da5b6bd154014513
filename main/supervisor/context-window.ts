import type { LabelAtom, Taint } from '../../contracts/labels.ts';
import type { LlmLocation, LlmMessage } from '../../contracts/llm.ts';
import type { PolicyPack } from '../../contracts/policy.ts';
import {
  PUBLIC,
  UNKNOWN,
  describeLabel,
  join,
  joinTaint,
  label,
  type Label,
} from '../policy/labels.ts';
import { LiteralMatcher } from '../policy/literal-matcher.ts';
import { untrustedEnvelope } from './untrusted-envelope.ts';

/** One thing a prompt holds that carries a label: a tool result, a person's note. */
export type WindowSource = {
  /** What a person reads, e.g. `skill feed@1.0.0 op read` or `a person's note`. */
  name: string;
  /** The step that produced it, when there is one. */
  step_id: string | null;
  label: Label;
  taint: Taint;
};

/** What the host knows of a tool result: the step its call id names. */
export type RecordedResult = WindowSource;

/** The join of everything the model saw, and what it saw it from. */
export type ContextWindow = { label: Label; taint: Taint; sources: WindowSource[] };

/** What the model is actually sent, and the window it answers from. */
export type PreparedPrompt = {
  messages: LlmMessage[];
  window: ContextWindow;
  /** Each untrusted source the model saw, with its content: argument provenance reads it. */
  untrusted: { source: WindowSource; content: string }[];
};

/** The atoms no remote provider is sent unless the pack's exception lists them. */
const WITHHELD_FROM_REMOTE: readonly LabelAtom[] = [
  'pii.redacted',
  'pii.chat.message',
  'pii.chat.metadata',
  'pii.attachment',
  'secret.token',
];

/**
 * Shorter strings of a source are not searched for in other messages: they would match
 * ordinary words. A copy of a longer field, or of the whole result, is found.
 */
const MIN_LITERAL = 16;

/** A note is a chat message from a person (the contract's label for it). */
const NOTE_LABEL: Label = label('pii.chat.message');

/** Tools the worker answers itself (their results are its own words, not a skill's). */
const WORKER_TOOLS: ReadonlySet<string> = new Set(['ccos__resume_later']);

/** The atoms the run's pack withholds from a provider at `location` (none for a local one). */
export function withheldAtoms(pack: PolicyPack, location: LlmLocation): ReadonlySet<LabelAtom> {
  if (location === 'local') return new Set();
  const allowed = new Set<LabelAtom>(pack.llm_remote_labels ?? []);
  return new Set(WITHHELD_FROM_REMOTE.filter((a) => a === 'secret.token' || !allowed.has(a)));
}

/** The visible placeholder that stands where a withheld value was. */
export function withheldPlaceholder(source: WindowSource): string {
  return `[withheld: ${describeLabel(source.label)} from ${source.name}]`;
}

/**
 * Prepares a request for the provider (issue 22): each tool result is matched to its step by
 * call id; values whose label the provider may not see are replaced by a placeholder, in
 * their tool message and wherever the worker copied them; untrusted results are wrapped in
 * the untrusted-data envelope; and the window — the join of what is left — is returned.
 * A tool result the host has no record of counts as unknown and untrusted.
 */
export function prepareWindow(
  messages: readonly LlmMessage[],
  results: ReadonlyMap<string, RecordedResult>,
  notes: readonly string[],
  withheld: ReadonlySet<LabelAtom>,
): PreparedPrompt {
  const toolNames = new Map<string, string>();
  for (const m of messages)
    if (m.role === 'assistant') for (const c of m.tool_calls ?? []) toolNames.set(c.id, c.name);
  const isWithheld = (l: Label): boolean => l.some((a) => withheld.has(a));
  const seen: WindowSource[] = [];
  const untrusted: PreparedPrompt['untrusted'] = [];
  const hidden: { source: WindowSource; content: string }[] = [];
  const sourceOf = (m: Extract<LlmMessage, { role: 'tool' }>): WindowSource => {
    const recorded = results.get(m.tool_call_id);
    if (recorded !== undefined) return recorded;
    if (WORKER_TOOLS.has(toolNames.get(m.tool_call_id) ?? ''))
      return { name: 'the worker', step_id: null, label: PUBLIC, taint: 'trusted' };
    return {
      name: `an unrecorded tool result (${m.tool_call_id})`,
      step_id: null,
      label: UNKNOWN,
      taint: 'untrusted',
    };
  };
  const noteSet = new Set(notes);
  const out = messages.map((m): LlmMessage => {
    if (m.role === 'user' && noteSet.has(m.content)) {
      // A person's note: their own words to the agent, personal data but not untrusted.
      seen.push({ name: 'a person’s note', step_id: null, label: NOTE_LABEL, taint: 'trusted' });
      return m;
    }
    if (m.role !== 'tool') return m;
    const source = sourceOf(m);
    if (isWithheld(source.label)) {
      hidden.push({ source, content: m.content });
      return { ...m, content: withheldPlaceholder(source) };
    }
    seen.push(source);
    if (source.taint === 'trusted') return m;
    untrusted.push({ source, content: m.content });
    return { ...m, content: untrustedEnvelope(source.name, m.content) };
  });
  const copied = hideCopies(out, hidden);
  return {
    messages: copied,
    window: {
      label: join(...seen.map((s) => s.label)),
      taint: joinTaint(...seen.map((s) => s.taint)),
      sources: dedupe(seen),
    },
    untrusted,
  };
}

/** Replaces, in every message but the withheld ones' own, the literal text of what was withheld. */
function hideCopies(
  messages: LlmMessage[],
  hidden: readonly { source: WindowSource; content: string }[],
): LlmMessage[] {
  let result = messages;
  for (const h of hidden) {
    const matcher = new LiteralMatcher(literalsOf(h.content));
    const placeholder = withheldPlaceholder(h.source);
    result = result.map((m) => {
      if (m.content === placeholder || !matcher.test(m.content)) return m;
      return { ...m, content: matcher.replace(m.content, placeholder) };
    });
  }
  return result;
}

/** The whole content and each long enough string inside it (a tool result is JSON). */
export function literalsOf(content: string): string[] {
  const found = [content];
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    return found;
  }
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.length >= MIN_LITERAL) found.push(v);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(parsed);
  return found;
}

function dedupe(sources: readonly WindowSource[]): WindowSource[] {
  const byKey = new Map<string, WindowSource>();
  for (const s of sources) byKey.set(`${s.name}\n${s.step_id ?? ''}`, s);
  return [...byKey.values()];
}
