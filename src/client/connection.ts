import {existsSync, readFileSync} from 'node:fs'
import {dirname, isAbsolute, resolve} from 'node:path'
import {dataDirFiles, defaultDataDir, userConfigPath} from '../config/paths.ts'
import {AuthError, UsageError} from '../util/errors.ts'

/** Everything needed to talk to one operator API. */
export interface Connection {
  /** Operator API base URL, always ending in `/operator/v1`, no trailing slash. */
  baseUrl: string
  token: string
  /** PEM of the CA that signs the server certificate; absent means the system trust store. */
  ca?: string
  /** Where each value came from (`--server`, `MARGO_TOKEN`, a file path), for messages. */
  origin: {server: string; token: string; ca?: string}
}

export interface ConnectionOptions {
  server?: string
  token?: string
  caFile?: string
  dataDir?: string
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>
  /** Defaults to userConfigPath(). */
  configPath?: string
  /** The data dir consulted when none is named; defaults to defaultDataDir(). */
  defaultDataDir?: string
}

/** The operator CLI login file (YAML). */
export interface UserConfig {
  server?: string
  token?: string
  caFile?: string
}

/** `server.json`, written by a running `margo serve` into its data directory. */
export interface ServerInfo {
  operatorUrl: string
  url?: string
  pid?: number
  version?: string
}

/** A place that stores a server URL together with its credentials. */
interface Store {
  server?: string
  origin: string
  /** An explicitly chosen store lends its credentials even when the server URL came from elsewhere. */
  explicit: boolean
  token: () => {value: string; origin: string} | undefined
  ca: () => {path: string; origin: string} | undefined
}

const OPERATOR_PATH = '/operator/v1'

/**
 * Accepts `host:port`, `https://host:port` or the full operator URL and returns the operator
 * base URL. The operator API never moves with `--base-path`, so appending its prefix is safe.
 */
export function normalizeServerUrl(input: string, origin = '--server'): string {
  const raw = input.trim()
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new UsageError(`invalid server URL ${JSON.stringify(input)} (from ${origin}) — use e.g. https://fleet.example:8443`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`server URL ${JSON.stringify(input)} (from ${origin}) must use https:// or http://`)
  }
  let path = url.pathname.replace(/\/+$/, '')
  if (!path.endsWith(OPERATOR_PATH)) path += OPERATOR_PATH
  return `${url.protocol}//${url.host}${path}`
}

// Only a login file is YAML, and a command on the server's own machine usually reads none: the
// parser (about half a millisecond of a command's start) is loaded when one is there.
const parseYaml = (text: string): unknown => (require('yaml') as typeof import('yaml')).parse(text)

export function readUserConfig(path: string): UserConfig | undefined {
  const text = readOptional(path)
  if (text === undefined) return undefined
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch (err) {
    throw new UsageError(`cannot parse ${path}: ${(err as Error).message} — fix it or run: margo login`, {cause: err})
  }
  if (doc == null) return {}
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new UsageError(`${path} must be a YAML mapping with server, token and caFile — run: margo login`)
  }
  const out: UserConfig = {}
  for (const key of ['server', 'token', 'caFile'] as const) {
    const value = (doc as Record<string, unknown>)[key]
    if (value === undefined || value === null) continue
    if (typeof value !== 'string') throw new UsageError(`${path}: ${key} must be a string — fix it or run: margo login`)
    out[key] = key === 'caFile' && !isAbsolute(value) ? resolve(dirname(path), value) : value
  }
  return out
}

export function readServerInfo(path: string): ServerInfo | undefined {
  let doc: unknown
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'))
  } catch {
    // Unreadable, half-written or foreign: treated as absent, and the caller explains what it
    // looked for. A data dir of another user must not break a login that points elsewhere.
    return undefined
  }
  const info = doc as Partial<ServerInfo> | null
  if (!info || typeof info.operatorUrl !== 'string') return undefined
  return info as ServerInfo
}

/**
 * Finds the server and credentials. Precedence for the server URL: `--server`, then an explicit
 * `--data-dir`, `MARGO_SERVER`, `MARGO_DATA_DIR`, the login file, and finally the data dir of a
 * server running on this machine. Token and CA: flag, environment, then the store that named
 * the server (or another store bound to the same URL), so a stored token is never sent to a
 * server it was not stored for.
 */
export function resolveConnection(opts: ConnectionOptions = {}): Connection {
  const env = opts.env ?? process.env
  const configPath = opts.configPath ?? userConfigPath()
  const config = readUserConfig(configPath)

  const dataDirOrigin = opts.dataDir ? 'flag' : env.MARGO_DATA_DIR ? 'env' : undefined
  const dataDir = opts.dataDir || env.MARGO_DATA_DIR || opts.defaultDataDir || defaultDataDir()
  const files = dataDirFiles(dataDir)
  const info = readServerInfo(files.serverInfo)

  const dataStore: Store = {
    server: info?.operatorUrl,
    origin: files.serverInfo,
    explicit: dataDirOrigin !== undefined,
    token: () => {
      const value = readSecret(files.operatorToken)
      return value ? {value, origin: files.operatorToken} : undefined
    },
    ca: () => (existsSync(files.caCert) ? {path: files.caCert, origin: files.caCert} : undefined),
  }
  const configStore: Store = {
    server: config?.server,
    origin: configPath,
    explicit: false,
    token: () => (config?.token ? {value: config.token, origin: configPath} : undefined),
    ca: () => (config?.caFile ? {path: config.caFile, origin: configPath} : undefined),
  }

  const noServerIn = () =>
    new UsageError(
      `no running server found in ${dataDir} (${files.serverInfo} is missing) — start one with: margo serve --data-dir ${dataDir}, or pass --server`,
    )
  // Naming a data dir on the command line means "that server"; never silently talk to another.
  if (dataDirOrigin === 'flag' && !info && !opts.server) throw noServerIn()

  type Candidate = {value: string; origin: string; store?: Store}
  const candidates: (Candidate | undefined)[] = [
    opts.server ? {value: opts.server, origin: '--server'} : undefined,
    dataDirOrigin === 'flag' && info ? {value: info.operatorUrl, origin: files.serverInfo, store: dataStore} : undefined,
    env.MARGO_SERVER ? {value: env.MARGO_SERVER, origin: 'MARGO_SERVER'} : undefined,
    dataDirOrigin === 'env' && info ? {value: info.operatorUrl, origin: files.serverInfo, store: dataStore} : undefined,
    config?.server ? {value: config.server, origin: configPath, store: configStore} : undefined,
    info ? {value: info.operatorUrl, origin: files.serverInfo, store: dataStore} : undefined,
  ]
  const chosen = candidates.find((c): c is Candidate => c !== undefined)
  if (!chosen) {
    if (dataDirOrigin) throw noServerIn()
    throw new UsageError(
      `no server configured: looked at --server, MARGO_SERVER, the login file ${configPath} and a local server's ${files.serverInfo} (none there) — ` +
        `point at the data dir of a running margo serve with --data-dir DIR or MARGO_DATA_DIR=DIR, or pass --server URL --token TOKEN, or run: margo login --server URL --token TOKEN`,
    )
  }
  const baseUrl = normalizeServerUrl(chosen.value, chosen.origin)

  const bound = (store: Store) =>
    store === chosen.store || store.explicit || (store.server !== undefined && sameServer(store.server, baseUrl))
  const stores = [chosen.store, configStore, dataStore].filter((s, i, all): s is Store => !!s && all.indexOf(s) === i && bound(s))

  const token = opts.token
    ? {value: opts.token, origin: '--token'}
    : env.MARGO_TOKEN
      ? {value: env.MARGO_TOKEN, origin: 'MARGO_TOKEN'}
      : firstOf(stores, s => s.token())
  if (!token) {
    throw new AuthError(
      `no operator token for ${baseUrl} — pass --token, set MARGO_TOKEN, or run: margo login --server ${baseUrl} --token TOKEN`,
    )
  }

  const caRef = opts.caFile
    ? {path: opts.caFile, origin: '--ca-file'}
    : env.MARGO_CA_FILE
      ? {path: env.MARGO_CA_FILE, origin: 'MARGO_CA_FILE'}
      : firstOf(stores, s => s.ca())
  const ca = caRef ? readCaFile(caRef.path, caRef.origin) : undefined

  return {
    baseUrl,
    token: token.value,
    ...(ca ? {ca} : {}),
    origin: {server: chosen.origin, token: token.origin, ...(caRef ? {ca: caRef.origin === caRef.path ? caRef.path : `${caRef.path} (from ${caRef.origin})`} : {})},
  }
}

function sameServer(a: string, b: string): boolean {
  try {
    return normalizeServerUrl(a) === normalizeServerUrl(b)
  } catch {
    return false
  }
}

function firstOf<T>(stores: Store[], pick: (s: Store) => T | undefined): T | undefined {
  for (const store of stores) {
    const value = pick(store)
    if (value !== undefined) return value
  }
  return undefined
}

export function readCaFile(path: string, origin: string): string {
  let pem: string
  try {
    pem = readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read CA file ${path} (from ${origin}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} — check the path`, {cause: err})
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new UsageError(`CA file ${path} (from ${origin}) holds no PEM certificate — pass the server's CA certificate (tls/ca.pem in its data dir)`)
  }
  return pem
}

function readSecret(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    throw new AuthError(`cannot read operator token ${path}: ${code ?? (err as Error).message} — run as the user that runs margo serve, or pass --token`, {cause: err})
  }
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {cause: err})
  }
}
