import { parseLocatedYaml, type LineLocator, type LocatedValue } from './located-document.ts';

/** What a Markdown document turned out to hold; nothing in it was guessed from prose. */
export type MarkdownSkill = LocatedValue & {
  /** True when there was front matter, an operation block or an endpoint section. */
  structured: boolean;
};

type Fragment = { value: unknown; lineOf: LineLocator };

const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([A-Za-z0-9_-]*)/;
const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
/** `## POST /agents/register`, optionally in backticks: the only way a section declares an operation. */
const ENDPOINT = /^`?(GET|HEAD|POST|PUT|PATCH|DELETE)\s+(\/[^\s`]*)`?$/;
/** `**Operation:** register`, `- approval: always`, … inside an endpoint section. */
const META =
  /^(?:[-*]\s+)?(?:\*\*)?(operation|id|approval|auth|capabilities)(?::\*\*|\*\*:|:)\s*`?([^`]+?)`?\s*$/i;
/** `- \`sort\` (query, string, optional): hot, new or top` */
const PARAM_ITEM = /^[-*]\s+`([A-Za-z_][A-Za-z0-9_]*)`\s*\(([^)]*)\)\s*(?:[:—–-]\s*)?(.*)$/;

const LOCATIONS = new Set(['path', 'query', 'body']);

/**
 * Reads a `skill.md`: YAML front matter for the skill's fields, fenced ```yaml / ```json
 * blocks holding operations (an object with `operations: [...]`, or one with `method` and
 * `path`), and endpoint sections whose heading is exactly `METHOD /path` with their
 * parameter table or list. Everything else — prose, examples, curl lines — is ignored:
 * operations are never inferred from text (PEER-LESSONS: tweet URLs given to the loader).
 */
export function readSkillMarkdown(label: string, text: string): MarkdownSkill {
  const lines = text.split(/\r?\n/);
  let top: Fragment | undefined;
  let start = 0;
  if (lines[0]?.trim() === '---') {
    const end = lines.findIndex((l, i) => i > 0 && (l.trim() === '---' || l.trim() === '...'));
    if (end > 0) {
      top = parseLocatedYaml(label, lines.slice(1, end).join('\n'), 2);
      start = end + 1;
    }
  }
  const ops: Fragment[] = [];
  const fmOps = (top?.value as { operations?: unknown } | undefined)?.operations;
  if (Array.isArray(fmOps) && top !== undefined) {
    const t = top;
    fmOps.forEach((op, i) =>
      ops.push({ value: op, lineOf: (p) => t.lineOf(['operations', i, ...p]) }),
    );
  }

  let onboarding: Fragment | undefined;
  let blocks = 0;
  let sections = 0;
  let section: Section | undefined;
  const finish = (): void => {
    if (section !== undefined) ops.push(sectionOperation(section));
    section = undefined;
  };
  for (let i = start; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const fence = FENCE.exec(line);
    if (fence !== null) {
      const marker = fence[1] ?? '```';
      const close = lines.findIndex(
        (l, j) =>
          j > i && l.trim().startsWith(marker) && l.trim().replaceAll(marker[0] ?? '`', '') === '',
      );
      const end = close === -1 ? lines.length : close;
      const info = (fence[2] ?? '').toLowerCase();
      // Blocks inside an endpoint section are examples (requests, responses), not declarations.
      if (section === undefined && (info === 'yaml' || info === 'yml' || info === 'json')) {
        const blockText = lines.slice(i + 1, end).join('\n');
        const found = blockOperations(label, blockText, i + 2);
        if (found.length > 0) blocks += 1;
        ops.push(...found);
        // The first onboarding block counts; front matter wins over any block.
        onboarding ??= blockOnboarding(label, blockText, i + 2);
      }
      i = end;
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading !== null) {
      const level = (heading[1] ?? '#').length;
      if (section !== undefined && level <= section.level) finish();
      const endpoint = ENDPOINT.exec(heading[2] ?? '');
      if (endpoint !== null && section === undefined) {
        sections += 1;
        section = {
          level,
          line: i + 1,
          method: endpoint[1] ?? 'GET',
          path: endpoint[2] ?? '/',
          body: [],
        };
      }
      continue;
    }
    section?.body.push({ text: line, line: i + 1 });
  }
  finish();

  const topValue: unknown = top?.value ?? {};
  const base =
    typeof topValue === 'object' && topValue !== null && !Array.isArray(topValue)
      ? (topValue as Record<string, unknown>)
      : {};
  const fromBlock = onboarding !== undefined && !('onboarding' in base) ? onboarding : undefined;
  const withOps =
    ops.length > 0 || 'operations' in base
      ? { ...base, operations: ops.map((o) => o.value) }
      : base;
  const value = fromBlock === undefined ? withOps : { ...withOps, onboarding: fromBlock.value };
  return {
    value,
    structured: top !== undefined || blocks > 0 || sections > 0,
    lineOf: (p) => {
      if (p[0] === 'operations' && typeof p[1] === 'number') {
        const op = ops[p[1]];
        if (op !== undefined) return op.lineOf(p.slice(2));
      }
      if (p[0] === 'onboarding' && fromBlock !== undefined) return fromBlock.lineOf(p.slice(1));
      return top?.lineOf(p) ?? 1;
    },
  };
}

function blockOperations(label: string, text: string, firstLine: number): Fragment[] {
  const block = parseLocatedYaml(label, text, firstLine);
  const v = block.value;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return [];
  const list = (v as { operations?: unknown }).operations;
  if (Array.isArray(list))
    return (list as unknown[]).map((op, i) => ({
      value: op,
      lineOf: (p) => block.lineOf(['operations', i, ...p]),
    }));
  if ('method' in v && 'path' in v) return [{ value: v, lineOf: block.lineOf }];
  return [];
}

/** A fenced block holding `onboarding: [...]`: the steps, with their lines. */
function blockOnboarding(label: string, text: string, firstLine: number): Fragment | undefined {
  const block = parseLocatedYaml(label, text, firstLine);
  const v = block.value;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !('onboarding' in v))
    return undefined;
  return {
    value: v.onboarding,
    lineOf: (p) => block.lineOf(['onboarding', ...p]),
  };
}

type Section = {
  level: number;
  line: number;
  method: string;
  path: string;
  body: { text: string; line: number }[];
};

/** Turns one `METHOD /path` section into an operation with a line for each field. */
function sectionOperation(s: Section): Fragment {
  const op: Record<string, unknown> = { method: s.method, path: s.path };
  const fieldLines = new Map<string, number>();
  const params: Record<string, unknown>[] = [];
  const paramLines: number[] = [];
  const paragraph: string[] = [];
  let table: { columns: string[]; line: number } | undefined;

  for (const { text, line } of s.body) {
    const trimmed = text.trim();
    if (trimmed.startsWith('|')) {
      const cells = trimmed
        .replace(/^\|/, '')
        .replace(/\|$/, '')
        .split(/(?<!\\)\|/)
        .map((c) => c.trim().replaceAll('\\|', '|'));
      if (table === undefined) {
        table = { columns: cells.map(columnName), line };
      } else if (!cells.every((c) => /^:?-+:?$/.test(c))) {
        const param = tableParameter(table.columns, cells);
        if (param !== undefined) {
          params.push(param);
          paramLines.push(line);
        }
      }
      continue;
    }
    table = undefined;
    const meta = META.exec(trimmed);
    if (meta !== null) {
      const key =
        (meta[1] ?? '').toLowerCase() === 'operation' ? 'id' : (meta[1] ?? '').toLowerCase();
      const raw = (meta[2] ?? '').trim();
      op[key] = key === 'capabilities' ? raw.split(/[\s,]+/).filter((c) => c !== '') : raw;
      fieldLines.set(key, line);
      continue;
    }
    const item = PARAM_ITEM.exec(trimmed);
    if (item !== null) {
      params.push(listParameter(item[1] ?? '', item[2] ?? '', item[3] ?? ''));
      paramLines.push(line);
      continue;
    }
    // The description is the first paragraph of plain text under the heading.
    if (trimmed === '') {
      if (paragraph.length > 0)
        fieldLines.set('description', fieldLines.get('description') ?? line);
      continue;
    }
    if (!fieldLines.has('description') && !/^[-*>]/.test(trimmed)) {
      if (paragraph.length === 0) fieldLines.set('description:start', line);
      paragraph.push(trimmed);
    }
  }
  if (paragraph.length > 0) op.description = paragraph.join(' ');
  if (params.length > 0) op.parameters = params;
  return {
    value: op,
    lineOf: (p) => {
      const [key, index] = p;
      if (key === 'parameters' && typeof index === 'number') return paramLines[index] ?? s.line;
      if (key === 'description') return fieldLines.get('description:start') ?? s.line;
      return typeof key === 'string' ? (fieldLines.get(key) ?? s.line) : s.line;
    },
  };
}

function columnName(header: string): string {
  const h = header.toLowerCase().replaceAll('*', '').replaceAll('`', '').trim();
  if (['name', 'parameter', 'param', 'field'].includes(h)) return 'name';
  if (['in', 'location', 'where'].includes(h)) return 'in';
  if (['values', 'enum', 'allowed', 'allowed values'].includes(h)) return 'enum';
  return h;
}

function tableParameter(columns: string[], cells: string[]): Record<string, unknown> | undefined {
  const row = new Map(columns.map((c, i) => [c, (cells[i] ?? '').replaceAll('`', '').trim()]));
  const name = row.get('name');
  if (name === undefined || name === '') return undefined;
  const param: Record<string, unknown> = { name };
  const where = row.get('in');
  if (where !== undefined && where !== '') param.in = where.toLowerCase();
  const type = row.get('type');
  if (type !== undefined && type !== '') param.type = type.toLowerCase();
  const required = row.get('required');
  if (required !== undefined) param.required = /^(yes|true|required|y|✓|x)$/i.test(required);
  const description = row.get('description');
  if (description !== undefined && description !== '') param.description = description;
  const values = row.get('enum');
  if (values !== undefined && values !== '')
    param.enum = values.split(/\s*,\s*/).filter((v) => v !== '');
  return param;
}

function listParameter(name: string, attrs: string, description: string): Record<string, unknown> {
  const param: Record<string, unknown> = { name };
  for (const token of attrs.split(/\s*,\s*/).map((t) => t.toLowerCase())) {
    if (LOCATIONS.has(token)) param.in = token;
    else if (token === 'required') param.required = true;
    else if (token === 'optional') param.required = false;
    // Anything else is taken as the type, so a typo fails the type check instead of vanishing.
    else if (token !== '') param.type = token;
  }
  if (description.trim() !== '') param.description = description.trim();
  return param;
}
