import { readFile, stat } from 'node:fs/promises';
import { Parser, type ReadEntry } from 'tar';
import { safeRelativePath, type PackageLimits } from './package-limits.ts';
import { skillInvalid } from '../manifest/skill-invalid.ts';

/**
 * Reads a `.tgz` skill package into memory, never onto disk, so a rejected archive leaves no
 * files behind. Only regular files and directories are accepted: symlinks, hard links and
 * devices are refused, as are paths that could escape the package and archives over the limits.
 * When every file sits under one top-level folder (as `npm pack` makes), that folder is stripped.
 */
export async function readSkillTgz(
  file: string,
  limits: PackageLimits,
): Promise<Map<string, Buffer>> {
  const info = await stat(file);
  if (info.size > limits.maxArchiveBytes) {
    throw skillInvalid(
      file,
      '(archive)',
      `is ${info.size} bytes, over the ${limits.maxArchiveBytes}-byte limit`,
      'ship a smaller package',
    );
  }
  const raw = await readFile(file);
  const files = new Map<string, Buffer>();
  let unpacked = 0;
  let entries = 0;
  let failure: Error | undefined;

  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        const fail = (field: string, problem: string, fix: string): void => {
          failure ??= skillInvalid(file, field, problem, fix);
          entry.resume();
          parser.abort(failure);
        };
        entries += 1;
        if (entries > limits.maxArchiveEntries) {
          fail(
            '(archive)',
            `has more than ${limits.maxArchiveEntries} entries`,
            'ship only skill.json and the entry file',
          );
          return;
        }
        const rel = safeRelativePath(entry.path);
        if (rel === undefined) {
          fail(
            `entry "${entry.path}"`,
            'is an absolute path or climbs out of the package',
            'use relative paths inside the package only',
          );
          return;
        }
        if (entry.type === 'Directory') {
          entry.resume();
          return;
        }
        if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
          fail(
            `entry "${entry.path}"`,
            `is a ${entry.type}; only regular files are accepted`,
            'replace links with the files themselves',
          );
          return;
        }
        const chunks: Buffer[] = [];
        entry.on('data', (chunk: Buffer) => {
          unpacked += chunk.length;
          if (unpacked > limits.maxUnpackedBytes) {
            fail(
              '(archive)',
              `unpacks to more than ${limits.maxUnpackedBytes} bytes`,
              'ship a smaller package',
            );
            return;
          }
          chunks.push(chunk);
        });
        entry.on('end', () => {
          if (failure === undefined) files.set(rel, Buffer.concat(chunks));
        });
      },
    });
    parser.on('error', (e: Error) => {
      reject(failure ?? e);
    });
    parser.on('abort', () => {
      reject(failure ?? new Error('archive aborted'));
    });
    parser.on('end', () => {
      if (failure !== undefined) reject(failure);
      else resolve();
    });
    parser.end(raw);
  }).catch((e: unknown) => {
    if (e === failure) throw e;
    throw skillInvalid(
      file,
      '(archive)',
      `is not a readable .tgz (${e instanceof Error ? e.message : String(e)})`,
      'create it with `tar czf` or `npm pack`',
    );
  });

  const paths = [...files.keys()];
  const top = paths[0]?.split('/')[0];
  if (
    !files.has('skill.json') &&
    top !== undefined &&
    paths.every((p) => p.startsWith(`${top}/`))
  ) {
    return new Map(paths.map((p) => [p.slice(top.length + 1), files.get(p) ?? Buffer.alloc(0)]));
  }
  return files;
}
