import { lstat, open, realpath } from 'node:fs/promises';
import path from 'node:path';
import { PACKAGE_LIMITS, safeRelativePath, type PackageLimits } from './package-limits.ts';
import { readSkillTgz } from './read-skill-tgz.ts';
import { skillInvalid } from '../manifest/skill-invalid.ts';

export const MANIFEST_FILE = 'skill.json';

/** The raw files of a skill package, before any validation of their content. */
export type SkillPackageFiles = {
  /** Absolute path of the folder or archive the skill came from. */
  source: string;
  /** How error messages name the manifest, e.g. `/x/skill.json` or `/x/s.tgz!skill.json`. */
  manifestLabel: string;
  manifestText: string;
  /** Reads a file the manifest names; throws SKILL_INVALID (naming `field`) when it is unsafe or missing. */
  readMember: (
    relPath: string,
    field: string,
    maxBytes: number,
  ) => Promise<{ label: string; text: string }>;
};

/** Opens a skill folder or `.tgz`, reading only what is needed and refusing anything that could escape it. */
export async function readSkillPackage(
  source: string,
  limits: PackageLimits = PACKAGE_LIMITS,
): Promise<SkillPackageFiles> {
  const abs = path.resolve(source);
  const info = await lstat(abs).catch(() => undefined);
  if (info === undefined)
    throw skillInvalid(
      abs,
      '(source)',
      'does not exist',
      'pass the path of a skill folder or a .tgz',
    );
  if (info.isFile() && /\.(tgz|tar\.gz)$/.test(abs)) return fromArchive(abs, limits);
  if (info.isDirectory()) return fromFolder(abs, limits);
  throw skillInvalid(
    abs,
    '(source)',
    'is neither a folder nor a .tgz file',
    'pass the path of a skill folder or a .tgz',
  );
}

async function fromArchive(file: string, limits: PackageLimits): Promise<SkillPackageFiles> {
  const files = await readSkillTgz(file, limits);
  const member = (
    rel: string,
    field: string,
    maxBytes: number,
  ): { label: string; text: string } => {
    const label = `${file}!${rel}`;
    const safe = safeRelativePath(rel);
    const data = safe === undefined ? undefined : files.get(safe);
    if (safe === undefined)
      throw skillInvalid(
        `${file}!${MANIFEST_FILE}`,
        field,
        `("${rel}") is not a relative path inside the package`,
        'name a file inside the package, e.g. "index.js"',
      );
    if (data === undefined)
      throw skillInvalid(
        `${file}!${MANIFEST_FILE}`,
        field,
        `names "${rel}", which is not in the archive`,
        'add the file or correct the name',
      );
    if (data.length > maxBytes)
      throw skillInvalid(
        label,
        field,
        `is ${data.length} bytes, over the ${maxBytes}-byte limit`,
        'make the file smaller',
      );
    return { label, text: data.toString('utf8') };
  };
  if (!files.has(MANIFEST_FILE)) {
    throw skillInvalid(
      file,
      MANIFEST_FILE,
      'is missing from the archive',
      'put skill.json at the root of the archive (or of its single top-level folder)',
    );
  }
  const manifest = member(MANIFEST_FILE, MANIFEST_FILE, limits.maxManifestBytes);
  return {
    source: file,
    manifestLabel: manifest.label,
    manifestText: manifest.text,
    readMember: (rel, field, maxBytes) =>
      Promise.resolve().then(() => member(rel, field, maxBytes)),
  };
}

async function fromFolder(dir: string, limits: PackageLimits): Promise<SkillPackageFiles> {
  const root = await realpath(dir);
  const manifestLabel = path.join(dir, MANIFEST_FILE);
  const readInside = async (
    rel: string,
    field: string,
    maxBytes: number,
    labelForErrors: string,
  ): Promise<{ label: string; text: string }> => {
    const safe = safeRelativePath(rel);
    if (safe === undefined)
      throw skillInvalid(
        labelForErrors,
        field,
        `("${rel}") is not a relative path inside the skill folder`,
        'name a file inside the folder, e.g. "index.js"',
      );
    const file = path.join(root, safe);
    const info = await lstat(file).catch(() => undefined);
    if (info === undefined)
      throw skillInvalid(
        labelForErrors,
        field,
        `names "${rel}", which does not exist`,
        'add the file or correct the name',
      );
    // A symlink could point anywhere on the machine; a skill folder must contain its own files.
    if (info.isSymbolicLink())
      throw skillInvalid(
        labelForErrors,
        field,
        `names "${rel}", which is a symbolic link`,
        'replace the link with the file itself',
      );
    if (!info.isFile())
      throw skillInvalid(
        labelForErrors,
        field,
        `names "${rel}", which is not a regular file`,
        'name a regular file',
      );
    const real = await realpath(file);
    if (!real.startsWith(root + path.sep))
      throw skillInvalid(
        labelForErrors,
        field,
        `names "${rel}", which resolves outside the skill folder`,
        'keep every file inside the folder',
      );
    const handle = await open(real, 'r');
    try {
      const size = (await handle.stat()).size;
      if (size > maxBytes)
        throw skillInvalid(
          file,
          field,
          `is ${size} bytes, over the ${maxBytes}-byte limit`,
          'make the file smaller',
        );
      return { label: file, text: await handle.readFile('utf8') };
    } finally {
      await handle.close();
    }
  };
  const manifest = await readInside(
    MANIFEST_FILE,
    MANIFEST_FILE,
    limits.maxManifestBytes,
    manifestLabel,
  );
  return {
    source: dir,
    manifestLabel,
    manifestText: manifest.text,
    readMember: (rel, field, maxBytes) => readInside(rel, field, maxBytes, manifestLabel),
  };
}
