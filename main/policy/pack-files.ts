import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { policyPackSchema, type PolicyPack } from '../../contracts/policy.ts';
import { AppError, perUnknownField } from '../errors.ts';
import { packConsistencyIssues } from './pack-consistency.ts';

/** What a pack file may be named; anything else in a policy folder is ignored. */
const PACK_FILE = /\.(ya?ml|json)$/i;
/** A pack is a page of settings: a larger file is a mistake (or an attack on start-up). */
const MAX_PACK_FILE_BYTES = 256 * 1024;

/** One problem in a pack file, where a person finds it. */
export type PackFileProblem = {
  file: string;
  line: number;
  col: number;
  field: string;
  message: string;
};

export type PackFile = { file: string; pack: PolicyPack };

/** `file:line:col: field: message`, the form editors and terminals turn into links. */
export function formatProblem(p: PackFileProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.field}: ${p.message}`;
}

/**
 * Reads and validates one pack file (YAML, or JSON, which is YAML too). Every problem is
 * reported at once with its line and column, so a person fixes a file in one pass.
 */
export async function readPackFile(
  file: string,
): Promise<{ pack: PolicyPack; problems: [] } | { pack: undefined; problems: PackFileProblem[] }> {
  const text = await readPackText(file);
  if (typeof text !== 'string') return { pack: undefined, problems: [text] };
  return parsePackText(file, text);
}

/** Validates pack text already read; `file` names it in problems. */
export function parsePackText(
  file: string,
  text: string,
): { pack: PolicyPack; problems: [] } | { pack: undefined; problems: PackFileProblem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined): { line: number; col: number } =>
    offset === undefined ? { line: 1, col: 1 } : lines.linePos(offset);
  if (doc.errors.length > 0)
    return {
      pack: undefined,
      problems: doc.errors.map((e) => ({
        file,
        ...at(e.pos[0]),
        field: '(file)',
        message: e.message.split('\n')[0] ?? e.message,
      })),
    };
  let value: unknown;
  try {
    // Aliases could expand a small file into a huge value ("billion laughs"): a pack needs none.
    value = doc.toJS({ maxAliasCount: 0 });
  } catch (e) {
    return {
      pack: undefined,
      problems: [{ file, line: 1, col: 1, field: '(file)', message: (e as Error).message }],
    };
  }
  const positionOf = (fieldPath: readonly PropertyKey[]): { line: number; col: number } => {
    // The deepest node that exists: a missing field is reported where its parent is.
    for (let depth = fieldPath.length; depth >= 0; depth--) {
      const node: unknown = doc.getIn(fieldPath.slice(0, depth), true);
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range !== undefined) return at(range[0]);
      if (depth === 0) break;
    }
    return { line: 1, col: 1 };
  };
  const toProblem = (issue: {
    path: readonly PropertyKey[];
    message: string;
  }): PackFileProblem => ({
    file,
    ...positionOf(issue.path),
    field: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  });
  const parsed = policyPackSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.flatMap(perUnknownField);
    return { pack: undefined, problems: issues.map(toProblem) };
  }
  const inconsistent = packConsistencyIssues(parsed.data);
  if (inconsistent.length > 0) return { pack: undefined, problems: inconsistent.map(toProblem) };
  return { pack: parsed.data, problems: [] };
}

/**
 * Every pack file in the given folders, in a stable order (folder, then name). A folder that
 * must exist (`--policy-dir`) and does not is a problem; the data dir's `policies/` may be
 * absent. Any problem anywhere stops the whole load: a host never starts with half its packs.
 */
export async function loadPackFiles(
  folders: readonly { dir: string; required: boolean }[],
): Promise<PackFile[]> {
  const problems: PackFileProblem[] = [];
  const files: PackFile[] = [];
  for (const { dir, required } of folders) {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => PACK_FILE.test(n)).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !required) continue;
      problems.push({
        file: dir,
        line: 1,
        col: 1,
        field: '(folder)',
        message: (e as Error).message,
      });
      continue;
    }
    for (const name of names) {
      const file = path.join(dir, name);
      const read = await readPackFile(file);
      if (read.pack === undefined) problems.push(...read.problems);
      else files.push({ file, pack: read.pack });
    }
  }
  problems.push(...duplicateIds(files));
  if (problems.length > 0) throw packFilesInvalid(problems);
  return files;
}

function duplicateIds(files: readonly PackFile[]): PackFileProblem[] {
  const first = new Map<string, string>();
  const problems: PackFileProblem[] = [];
  for (const { file, pack } of files) {
    const earlier = first.get(pack.id);
    if (earlier === undefined) first.set(pack.id, file);
    else
      problems.push({
        file,
        line: 1,
        col: 1,
        field: 'id',
        message: `pack "${pack.id}" is already defined in ${earlier}`,
      });
  }
  return problems;
}

/** The error that stops start-up (or `ccos policies check`): every problem, one per line. */
export function packFilesInvalid(problems: readonly PackFileProblem[]): AppError {
  return new AppError(
    'POLICY_PACK_INVALID',
    `invalid policy pack${problems.length === 1 ? '' : 's'}:\n${problems.map(formatProblem).join('\n')}`,
    { problems },
  );
}

async function readPackText(file: string): Promise<string | PackFileProblem> {
  const problem = (message: string): PackFileProblem => ({
    file,
    line: 1,
    col: 1,
    field: '(file)',
    message,
  });
  try {
    const bytes = await readFile(file);
    if (bytes.length > MAX_PACK_FILE_BYTES)
      return problem(`larger than ${MAX_PACK_FILE_BYTES} bytes`);
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    return problem(e instanceof TypeError ? 'not UTF-8 text' : (e as Error).message);
  }
}
