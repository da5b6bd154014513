import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { skillInvalid } from '../manifest/skill-invalid.ts';
import {
  declarativeFormatOf,
  MAX_DOCUMENT_BYTES,
  type DeclarativeFormat,
} from './compile-declarative-skill.ts';

/** A skill document read from this machine. */
export type SkillDocumentFile = { file: string; text: string; format: DeclarativeFormat };

/** Reads a `.yaml`/`.yml`/`.md` skill document, refusing links, non-files and oversize files. */
export async function readSkillDocument(source: string): Promise<SkillDocumentFile> {
  const file = path.resolve(source);
  const format = declarativeFormatOf(file);
  if (format === undefined)
    throw skillInvalid(
      file,
      '(source)',
      'is not a .yaml, .yml or .md file',
      'pass a skill.yaml or skill.md',
    );
  const info = await lstat(file).catch(() => undefined);
  if (info === undefined)
    throw skillInvalid(
      file,
      '(source)',
      'does not exist',
      'pass the path of a skill.yaml or skill.md',
    );
  if (!info.isFile())
    throw skillInvalid(
      file,
      '(source)',
      'is not a regular file',
      'pass the document itself, not a link',
    );
  if (info.size > MAX_DOCUMENT_BYTES)
    throw skillInvalid(file, '(source)', `is over ${MAX_DOCUMENT_BYTES} bytes`, 'make it smaller');
  return { file, text: await readFile(file, 'utf8'), format };
}
