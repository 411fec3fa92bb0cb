/** Registry authentication challenges (RFC 7235 `WWW-Authenticate`) and credentials. */

export type RegistryCredentials =
  | {kind: 'basic', username: string, password: string}
  | {kind: 'bearer', token: string}

export interface Challenge {
  scheme: string
  params: Record<string, string>
}

/**
 * Parses `Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull"`
 * (and `Basic realm="…"`). Parameter names are lower-cased; quoted values may contain commas.
 */
export function parseChallenge(header: string | null | undefined): Challenge | undefined {
  if (!header) return undefined
  const m = /^\s*([A-Za-z][A-Za-z0-9._~+/-]*)\s*(.*)$/s.exec(header)
  if (!m) return undefined
  const scheme = m[1]!.toLowerCase()
  const params: Record<string, string> = {}
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/g
  for (const p of (m[2] ?? '').matchAll(re)) {
    if (p[0] === '') break
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '')
  }
  return {scheme, params}
}

export function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`
}
