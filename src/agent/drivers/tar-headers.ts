/**
 * Type flags the package reader understands: files (`0`, and NUL from old tars), the types it
 * refuses with their own message (links, devices, fifos, contiguous files, directories are
 * allowed), pax headers and GNU long names. Anything else — GNU sparse files (`S`), volume labels
 * (`V`), multi-volume parts (`M`), dump directories (`D`), vendor flags — would come out of the
 * reader as a regular file holding bytes that are not the file's content.
 */
const KNOWN_FLAGS = new Set(['0', '\0', '1', '2', '3', '4', '5', '6', '7', 'x', 'g', 'L', 'K'])

/** Keywords a global pax header may not set: the reader applies them to some entries only. */
const GLOBAL_ONLY_REFUSED = new Set(['path', 'linkpath', 'size'])

const BLOCK = 512

function text(block: Uint8Array, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length)
  const end = field.indexOf(0)
  return new TextDecoder('latin1').decode(end === -1 ? field : field.subarray(0, end))
}

function octal(block: Uint8Array, offset: number, length: number): number | undefined {
  // Base-256 sizes (high bit set) mean files of 8 GiB and more, far beyond any package.
  if (block[offset]! & 0x80) return undefined
  const digits = text(block, offset, length).trim()
  if (digits === '') return 0
  return /^[0-7]+$/.test(digits) ? parseInt(digits, 8) : undefined
}

function checksumMatches(block: Uint8Array): boolean {
  let sum = 8 * 32
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += block[i]!
  return octal(block, 148, 8) === sum
}

/** The keywords of a pax extended header, read the way the package reader reads them. */
export function paxKeywords(body: Uint8Array): Map<string, string> {
  const result = new Map<string, string>()
  let rest = body
  while (rest.length > 0) {
    const space = rest.indexOf(0x20)
    const length = parseInt(new TextDecoder().decode(rest.subarray(0, space === -1 ? rest.length : space)), 10)
    if (!length || space === -1) break
    const record = new TextDecoder().decode(rest.subarray(space + 1, length - 1))
    const eq = record.indexOf('=')
    if (eq === -1) break
    result.set(record.slice(0, eq), record.slice(eq + 1))
    rest = rest.subarray(length)
  }
  return result
}

const blocks = (size: number) => Math.ceil(size / BLOCK) * BLOCK

/**
 * Walks the raw headers of an uncompressed tar, framing entries exactly as the package reader
 * does, and says what in it the reader would not interpret the way tar does: an unknown type
 * flag, a sparse file announced by pax keywords, a global pax header that renames or resizes
 * entries. Undefined when nothing is wrong, or when a header is damaged (the reader reports that).
 */
export function tarHeaderProblem(tar: Uint8Array): string | undefined {
  let offset = 0
  /** A size from the preceding pax header, which replaces the next entry's own. */
  let paxSize: number | undefined
  while (offset + BLOCK <= tar.length) {
    const block = tar.subarray(offset, offset + BLOCK)
    offset += BLOCK
    if (block.every(b => b === 0)) continue
    if (!checksumMatches(block)) return undefined
    const name = JSON.stringify(text(block, 0, 100))
    const flag = String.fromCharCode(block[156]!)
    const size = octal(block, 124, 12)
    if (size === undefined) return `archive entry ${name} has a size this reader does not accept`
    if (!KNOWN_FLAGS.has(flag)) {
      return `archive entry ${name} has the type flag ${JSON.stringify(flag).replace(/"/g, "'")}, which is neither a file nor a directory; packages may hold only files and directories`
    }
    if (flag === 'x' || flag === 'g') {
      const keywords = paxKeywords(tar.subarray(offset, offset + size))
      for (const key of keywords.keys()) {
        if (key.startsWith('GNU.sparse.')) return `archive entry ${name} describes a sparse file (pax ${key}); packages may hold only plain files`
        if (flag === 'g' && GLOBAL_ONLY_REFUSED.has(key)) return `the archive's global pax header sets ${key} for every entry; packages may not use that`
      }
      if (flag === 'x') paxSize = keywords.get('size') ? parseInt(keywords.get('size')!, 10) : undefined
      offset += blocks(size)
      continue
    }
    if (flag === 'L' || flag === 'K') {
      offset += blocks(size)
      continue
    }
    const dataSize = paxSize ?? size
    paxSize = undefined
    // The reader reads no data for a directory, including a file entry whose name ends in '/'.
    const directory = flag === '5' || ((flag === '0' || flag === '\0') && text(block, 0, 100).endsWith('/'))
    if (!directory && dataSize > 0) offset += blocks(dataSize)
  }
  return undefined
}
