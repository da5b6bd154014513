import { readFile } from 'node:fs/promises';
import path from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** A file of the built renderer, read for one response. */
export type RendererFile = { body: Uint8Array<ArrayBuffer>; contentType: string };

/**
 * Reads `relative` from the renderer's build folder, or undefined. Only plain names under
 * the folder are served: no `..`, no absolute paths, no dot files, only known types — the
 * gateway never becomes a way to read other files of the machine.
 */
export async function readRendererFile(
  rendererDir: string,
  relative: string,
): Promise<RendererFile | undefined> {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._/-]*$/.test(relative) || relative.includes('..')) return;
  const contentType = CONTENT_TYPES[path.extname(relative)];
  if (contentType === undefined) return;
  const root = path.resolve(rendererDir);
  const full = path.resolve(root, relative);
  if (!full.startsWith(root + path.sep)) return;
  try {
    return { body: new Uint8Array(await readFile(full)), contentType };
  } catch {
    return undefined;
  }
}
