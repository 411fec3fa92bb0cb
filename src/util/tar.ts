/**
 * A minimal deterministic ustar writer: same entries in, same bytes out. Every header carries
 * mtime 0, uid/gid 0 and empty owner names, so nothing about the machine that wrote the
 * archive leaks into its digest.
 */
import {gzipSync} from 'node:zlib'

export interface TarEntry {
  path: string
  /** Absent for a directory. */
  bytes?: Uint8Array
}

const BLOCK = 512
const encoder = new TextEncoder()

function writeString(header: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = encoder.encode(value)
  if (bytes.length > length) throw new RangeError(`tar header field too long: ${value}`)
  header.set(bytes, offset)
}

function writeOctal(header: Uint8Array, offset: number, length: number, value: number): void {
  writeString(header, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`)
}

/** Splits a long path over the ustar `prefix` and `name` fields, at a slash. */
function splitPath(path: string): {prefix: string, name: string} {
  if (encoder.encode(path).length <= 100) return {prefix: '', name: path}
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i)
    const name = path.slice(i + 1)
    if (encoder.encode(prefix).length <= 155 && encoder.encode(name).length <= 100) return {prefix, name}
  }
  throw new RangeError(`path too long for a tar archive: ${path}`)
}

function header(entry: TarEntry): Uint8Array {
  const h = new Uint8Array(BLOCK)
  const directory = entry.bytes === undefined
  const {prefix, name} = splitPath(directory ? `${entry.path}/` : entry.path)
  writeString(h, 0, 100, name)
  writeOctal(h, 100, 8, directory ? 0o755 : 0o644)
  writeOctal(h, 108, 8, 0)
  writeOctal(h, 116, 8, 0)
  writeOctal(h, 124, 12, entry.bytes?.length ?? 0)
  writeOctal(h, 136, 12, 0)
  h.fill(0x20, 148, 156)
  writeString(h, 156, 1, directory ? '5' : '0')
  writeString(h, 257, 6, 'ustar\0')
  writeString(h, 263, 2, '00')
  writeString(h, 345, 155, prefix)
  const sum = h.reduce((a, b) => a + b, 0)
  writeString(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `)
  return h
}

/** Entries are written in the order given; callers sort them for reproducible archives. */
export function writeTar(entries: readonly TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = []
  let size = 0
  for (const entry of entries) {
    const h = header(entry)
    parts.push(h)
    size += BLOCK
    if (entry.bytes && entry.bytes.length > 0) {
      const padded = Math.ceil(entry.bytes.length / BLOCK) * BLOCK
      const body = new Uint8Array(padded)
      body.set(entry.bytes)
      parts.push(body)
      size += padded
    }
  }
  parts.push(new Uint8Array(2 * BLOCK))
  size += 2 * BLOCK
  const out = new Uint8Array(size)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

export function writeTarGz(entries: readonly TarEntry[]): Uint8Array {
  return new Uint8Array(gzipSync(writeTar(entries), {level: 9}))
}
