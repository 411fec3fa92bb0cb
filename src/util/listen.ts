/** Listen addresses as operators write them: HOST:PORT, [IPv6]:PORT or :PORT. */

/** The host and port of `listen`, or null when it is not HOST:PORT. An empty host is `defaultHost`. */
export function splitListen(listen: string, defaultHost = '0.0.0.0'): {hostname: string, port: number} | null {
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:(\d{1,5})$/.exec(listen.trim())
  const port = m ? Number(m[3]) : NaN
  if (!m || port > 65535) return null
  return {hostname: m[1] ?? (m[2] || defaultHost), port}
}

/**
 * Hosts a listener without authentication may bind: this machine only. Metrics listeners speak
 * plain HTTP without a token, so anything wider needs a proxy the operator puts in front.
 */
export const isLoopbackHost = (hostname: string) => /^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(hostname)
