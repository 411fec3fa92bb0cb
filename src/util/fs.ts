import {closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync, chmodSync} from 'node:fs'
import {dirname} from 'node:path'

/**
 * Write a file so that a crash leaves either the old or the new content, never a torn file:
 * write a temporary sibling, fsync it, rename over the target, fsync the directory.
 * `mode` 0o600 is for secrets; the mode is set before any byte is written.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  mkdirSync(dirname(path), {recursive: true})
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`
  const fd = openSync(tmp, 'w', mode)
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data
    let off = 0
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  chmodSync(tmp, mode) // umask may have narrowed or widened what open() applied
  renameSync(tmp, path)
  try {
    const dfd = openSync(dirname(path), 'r')
    try { fsyncSync(dfd) } finally { closeSync(dfd) }
  } catch { /* some filesystems refuse fsync on directories; the rename is still atomic */ }
}

/** A secret (private key, token): mode 0600 in a directory only the owner can enter. */
export function writeSecretFile(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), {recursive: true, mode: 0o700})
  writeFileAtomic(path, data, 0o600)
}
