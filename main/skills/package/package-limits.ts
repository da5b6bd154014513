/** Size limits on what a skill package may contain; they bound the work a hostile archive can cause. */
export const PACKAGE_LIMITS = {
  maxManifestBytes: 256 * 1024,
  maxEntryBytes: 2 * 1024 * 1024,
  maxArchiveBytes: 5 * 1024 * 1024,
  maxUnpackedBytes: 10 * 1024 * 1024,
  maxArchiveEntries: 256,
} as const;

export type PackageLimits = { [K in keyof typeof PACKAGE_LIMITS]: number };

/**
 * A relative path inside a package, normalised, or undefined when it could escape the package
 * (absolute, drive letter, backslash, `..`) — the path-traversal guard for folders and archives.
 */
export function safeRelativePath(p: string): string | undefined {
  if (p.includes('\\') || p.includes('\0') || p.startsWith('/') || /^[A-Za-z]:/.test(p))
    return undefined;
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.length === 0 || parts.some((s) => s === '..')) return undefined;
  return parts.join('/');
}
