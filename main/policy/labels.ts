import type { LabelAtom, LabelInput, Taint } from '../../contracts/labels.ts';

/**
 * A confidentiality label: the antichain of its most restrictive atoms, sorted; `[]` is
 * `public`. Built only through this module, so two equal labels are equal arrays.
 */
export type Label = readonly LabelAtom[] & { readonly __label: unique symbol };

/** The atoms strictly below each atom (the contract's order; `public` is below all). */
const BELOW: Readonly<Record<LabelAtom, readonly LabelAtom[]>> = {
  'pii.redacted': [],
  'pii.chat.message': ['pii.redacted'],
  'pii.chat.metadata': ['pii.redacted'],
  'pii.attachment': ['pii.redacted'],
  'secret.token': [],
  'internal.system': [],
};
const ORDER = Object.keys(BELOW) as LabelAtom[];

function atomLeq(a: LabelAtom, b: LabelAtom): boolean {
  return a === b || BELOW[b].includes(a);
}

function normalize(atoms: Iterable<LabelAtom>): Label {
  const present = new Set(atoms);
  const maximal = ORDER.filter(
    (a) => present.has(a) && ![...present].some((b) => b !== a && atomLeq(a, b)),
  );
  return maximal as unknown as Label;
}

export const PUBLIC: Label = normalize([]);

/**
 * What a value with no label counts as: the contract treats the unknown as PII, so every
 * personal-data atom (never `public`, never silently less than what it might be).
 */
export const UNKNOWN: Label = normalize([
  'pii.chat.message',
  'pii.chat.metadata',
  'pii.attachment',
]);

/** A label from what a person or a pack wrote. */
export function label(input: LabelInput): Label {
  const items = Array.isArray(input) ? input : [input];
  return normalize(items.filter((i): i is LabelAtom => i !== 'public'));
}

/** The least upper bound: a value derived from these inputs carries this label. */
export function join(...labels: readonly Label[]): Label {
  return normalize(labels.flat());
}

/** `a` is at most as restrictive as `b`: data labelled `a` may go wherever `b` may. */
export function leq(a: Label, b: Label): boolean {
  return a.every((x) => b.some((y) => atomLeq(x, y)));
}

export function equals(a: Label, b: Label): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** True when the label holds `atom` or something above it. */
export function includes(l: Label, atom: LabelAtom): boolean {
  return l.some((x) => atomLeq(atom, x));
}

/** `public`, one atom, or atoms joined with `+`: how logs, approvals and the UI name a label. */
export function describeLabel(l: Label): string {
  return l.length === 0 ? 'public' : l.join('+');
}

/**
 * The label of one field of an object with per-field labels. A field without its own label
 * takes the most restrictive of its siblings' (the join); with no labels at all, UNKNOWN.
 */
export function fieldLabel(labels: Readonly<Record<string, Label>>, field: string): Label {
  const own = Object.hasOwn(labels, field) ? labels[field] : undefined;
  if (own !== undefined) return own;
  const siblings = Object.values(labels);
  return siblings.length === 0 ? UNKNOWN : join(...siblings);
}

/** Integrity join: anything derived from an untrusted input is untrusted. */
export function joinTaint(...taints: readonly Taint[]): Taint {
  return taints.includes('untrusted') ? 'untrusted' : 'trusted';
}
