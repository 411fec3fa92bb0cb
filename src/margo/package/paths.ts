/**
 * Package-relative paths. A path taken from a description or an archive is only used after it
 * has been normalised here, so `..`, absolute paths and odd separators never reach the caller.
 */

/**
 * Normalises a relative path (`./a//b/` → `a/b`). Returns null for anything that could leave
 * the package root or be read differently on another platform: absolute paths, `..` segments,
 * backslashes, drive letters, NUL and other control characters, or an empty path.
 */
export function normaliseRelativePath(path: string): string | null {
  if (path === '' || path.startsWith('/') || path.includes('\\')) return null
  if (/^[A-Za-z]:/.test(path)) return null
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters in a path are what this refuses
  if (/[\u0000-\u001f\u007f]/.test(path)) return null
  const segments: string[] = []
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') return null
    segments.push(segment)
  }
  return segments.length === 0 ? null : segments.join('/')
}
