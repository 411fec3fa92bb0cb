import {gzipSync} from 'node:zlib'
import {pack, type Header} from 'tar-stream'

export interface TarEntry {
  name: string
  type?: Header['type'] | 'pax-global-header'
  mode?: number
  content?: string | Uint8Array
  linkname?: string
}

/** Builds a tar (gzip-compressed unless `gzip` is false) from entries, malicious ones included. */
export async function buildTar(entries: TarEntry[], gzip = true): Promise<Uint8Array> {
  const p = pack()
  const chunks: Uint8Array[] = []
  const done = (async () => {
    for await (const chunk of p) chunks.push(chunk as Uint8Array)
  })()
  const prefix: Uint8Array[] = []
  for (const e of entries) {
    if (e.type === 'pax-global-header') {
      // What `git archive` writes first; tar-stream's packer cannot produce one with a body.
      const body = Buffer.from(e.content ?? '')
      prefix.push(paxGlobalHeader(e.name, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512))
      continue
    }
    const type = e.type ?? (e.name.endsWith('/') ? 'directory' : 'file')
    const body = e.content === undefined ? undefined : Buffer.from(e.content)
    const header: Partial<Header> & {name: string} = {name: e.name, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), ...(e.linkname !== undefined && {linkname: e.linkname})}
    if (type === 'file') header.size = body?.length ?? 0
    await new Promise<void>((resolve, reject) => p.entry(header, body ?? Buffer.alloc(0), err => (err ? reject(err) : resolve())))
  }
  p.finalize()
  await done
  const tar = Buffer.concat([...prefix, ...chunks])
  return gzip ? gzipSync(tar) : tar
}

export const COMPOSE_YAML = 'services:\n  web:\n    image: margo.local/busybox:1\n    command: sleep 3600\n'

/** A ustar header block with typeflag `g`. */
function paxGlobalHeader(name: string, size: number): Uint8Array {
  const block = Buffer.alloc(512)
  const put = (offset: number, length: number, text: string) => block.write(text.slice(0, length), offset, 'latin1')
  const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, '0')
  put(0, 100, name)
  put(100, 8, octal(0o644, 8))
  put(108, 8, octal(0, 8))
  put(116, 8, octal(0, 8))
  put(124, 12, octal(size, 12))
  put(136, 12, octal(0, 12))
  put(148, 8, '        ')
  put(156, 1, 'g')
  put(257, 6, 'ustar')
  put(263, 2, '00')
  let sum = 0
  for (const byte of block) sum += byte
  put(148, 8, `${octal(sum, 7)} `)
  return block
}
