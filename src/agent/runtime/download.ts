/** Largest package a compose component may download. */
const MAX_PACKAGE_BYTES = 256 * 1024 * 1024
const TIMEOUT_MS = 5 * 60 * 1000

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost'])

/**
 * Downloads for drivers (compose packages, their signatures and keys). HTTPS with the system
 * trust store (plus NODE_EXTRA_CA_CERTS for private registries); plain HTTP only from loopback,
 * for local mirrors. Size and time are bounded so a bad URL cannot stall or fill the device.
 */
export function downloader(): (url: string) => Promise<Uint8Array> {
  return async (url: string) => {
    const parsed = new URL(url)
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && LOOPBACK.has(parsed.hostname))) {
      throw new Error(`refusing to download ${url}: only https:// URLs (or http:// on loopback) are allowed`)
    }
    const res = await fetch(url, {signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'follow'})
    if (!res.ok) throw new Error(`download of ${url} failed: HTTP ${res.status}`)
    const declared = Number(res.headers.get('content-length') ?? '0')
    if (declared > MAX_PACKAGE_BYTES) throw new Error(`download of ${url} refused: ${declared} bytes is over the ${MAX_PACKAGE_BYTES} byte limit`)
    const chunks: Uint8Array[] = []
    let total = 0
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      total += chunk.byteLength
      if (total > MAX_PACKAGE_BYTES) throw new Error(`download of ${url} refused: over the ${MAX_PACKAGE_BYTES} byte limit`)
      chunks.push(chunk)
    }
    return Buffer.concat(chunks)
  }
}
