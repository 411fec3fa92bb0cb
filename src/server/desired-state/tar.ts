/**
 * A minimal ustar writer for regular files. Written by hand rather than streamed through a
 * tar library so the output is synchronous and every header byte is fixed by the inputs
 * alone: mode 0644, uid/gid 0, empty owner names, mtime 0.
 */

const BLOCK = 512
const MAX_SIZE = 8 ** 11 - 1 // 11 octal digits in the size field

export interface TarFile {
  name: string
  bytes: Uint8Array
}

function writeString(header: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = new TextEncoder().encode(value)
  if (bytes.length > length) throw new Error(`tar field too long: ${value}`)
  header.set(bytes, offset)
}

/** Zero-padded octal followed by NUL, filling the whole field. */
function writeOctal(header: Uint8Array, offset: number, length: number, value: number): void {
  writeString(header, offset, length, value.toString(8).padStart(length - 1, '0') + '\0')
}

function fileHeader(name: string, size: number): Uint8Array {
  const header = new Uint8Array(BLOCK)
  writeString(header, 0, 100, name)
  writeOctal(header, 100, 8, 0o644)
  writeOctal(header, 108, 8, 0) // uid
  writeOctal(header, 116, 8, 0) // gid
  writeOctal(header, 124, 12, size)
  writeOctal(header, 136, 12, 0) // mtime: the epoch
  header.fill(0x20, 148, 156) // checksum is computed with its own field as blanks
  header[156] = 0x30 // '0': regular file
  writeString(header, 257, 6, 'ustar\0')
  writeString(header, 263, 2, '00')
  writeOctal(header, 329, 8, 0) // devmajor
  writeOctal(header, 337, 8, 0) // devminor
  const sum = header.reduce((a, b) => a + b, 0)
  writeString(header, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ')
  return header
}

/** The archive, in the order given, closed by two zero blocks. */
export function tarFiles(files: readonly TarFile[]): Uint8Array {
  const parts: Uint8Array[] = []
  let total = 0
  for (const file of files) {
    if (file.bytes.length > MAX_SIZE) throw new Error(`tar entry too large: ${file.name}`)
    const header = fileHeader(file.name, file.bytes.length)
    const padded = Math.ceil(file.bytes.length / BLOCK) * BLOCK
    parts.push(header, file.bytes, new Uint8Array(padded - file.bytes.length))
    total += BLOCK + padded
  }
  parts.push(new Uint8Array(2 * BLOCK))
  total += 2 * BLOCK
  const out = new Uint8Array(total)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}
