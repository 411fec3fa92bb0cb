import {gunzipSync} from 'node:zlib'
import {extract, type Header} from 'tar-stream'

export interface TarEntry {
  header: Header
  bytes: Buffer
}

/** Unpacks a tar.gz with an independent tar reader, in archive order. */
export async function untar(gz: Uint8Array): Promise<TarEntry[]> {
  const entries: TarEntry[] = []
  const ex = extract()
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = []
      stream.on('data', (c: unknown) => chunks.push(c as Buffer))
      stream.on('end', () => {
        entries.push({header, bytes: Buffer.concat(chunks)})
        next()
      })
      stream.on('error', reject)
    })
    ex.on('finish', resolve)
    ex.on('error', reject)
  })
  ex.end(gunzipSync(gz))
  await done
  return entries
}
