import { labelAtomSchema, taintSchema, type Taint } from '../../contracts/labels.ts';
import {
  memoryAudienceSchema,
  memorySourceSchema,
  type MemoryAudience,
  type MemorySource,
} from '../../contracts/memory.ts';
import { describeLabel, label as labelOf, UNKNOWN, type Label } from '../policy/labels.ts';
import type { MemoryTable } from '../store/schema.ts';

/** A memory item as the host works with it: its row, parsed once. */
export type MemoryRecord = {
  id: string;
  namespace: string;
  key: string;
  value: unknown;
  label: Label;
  taint: Taint;
  source: MemorySource;
  run_id: string | null;
  step_id: string | null;
  session_id: string | null;
  audience: MemoryAudience;
  /** `''` for the unbound audiences (`namespace`, `ui_only`). */
  audience_id: string;
  expires_at: string | null;
  created_at: string;
  updated_at: string;
};

/** A label as its column holds it: `public` or atoms joined with `+` (docs/labels.md). */
export function labelColumn(l: Label): string {
  return describeLabel(l);
}

/** A stored label; anything unreadable counts as unknown (the most restrictive PII), never less. */
export function parseLabelColumn(text: string): Label {
  if (text === 'public') return labelOf('public');
  const atoms = text.split('+').map((a) => labelAtomSchema.safeParse(a));
  if (atoms.some((a) => !a.success)) return UNKNOWN;
  return labelOf(atoms.map((a) => a.data).filter((a) => a !== undefined));
}

/** `skill:<id>@<version>`, `transform:<id>@<version>`, `agent:<run>`, `person:<actor>`, `host`. */
export function sourceColumn(source: MemorySource): string {
  if (source.kind === 'host') return 'host';
  return `${source.kind}:${source.id}${source.version === null ? '' : `@${source.version}`}`;
}

export function parseSourceColumn(text: string): MemorySource {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  const versioned = kind === 'skill' || kind === 'transform';
  const at = versioned ? rest.lastIndexOf('@') : -1;
  const parsed = memorySourceSchema.safeParse({
    kind,
    id: at < 0 ? rest : rest.slice(0, at),
    version: at < 0 ? null : rest.slice(at + 1),
  });
  return parsed.success ? parsed.data : { kind: 'host', id: text, version: null };
}

/** Parses a row (the table's JSON and enum columns arrive as text). */
export function recordOf(row: MemoryTable): MemoryRecord {
  const audience = memoryAudienceSchema.safeParse(row.audience);
  const taint = taintSchema.safeParse(row.taint);
  return {
    id: row.id,
    namespace: row.namespace,
    key: row.key,
    value: JSON.parse(row.value) as unknown,
    label: parseLabelColumn(row.label),
    // Unknown integrity is untrusted; an unknown audience admits only the person.
    taint: taint.success ? taint.data : 'untrusted',
    source: parseSourceColumn(row.source),
    run_id: row.run_id,
    step_id: row.step_id,
    session_id: row.session_id,
    audience: audience.success ? audience.data : 'ui_only',
    audience_id: row.audience_id,
    expires_at: row.expires_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}
