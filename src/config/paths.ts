import {homedir} from 'node:os'
import {join} from 'node:path'

/** Where things live by default (see docs/cli.md): root gets system paths, users get XDG paths. */
const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0

const xdg = (variable: string, fallback: string) => process.env[variable] || join(homedir(), fallback)

/** Server data: SQLite database, CA and TLS key pair, operator token, server.json. */
export function defaultDataDir(): string {
  if (process.env.MARGO_DATA_DIR) return process.env.MARGO_DATA_DIR
  return isRoot() ? '/var/lib/margo' : join(xdg('XDG_DATA_HOME', '.local/share'), 'margo')
}

/** Agent state: key, certificate, clientId, accepted manifest, outbox. */
export function defaultAgentStateDir(): string {
  if (process.env.MARGO_AGENT_STATE_DIR) return process.env.MARGO_AGENT_STATE_DIR
  return isRoot() ? '/var/lib/margo-agent' : join(xdg('XDG_STATE_HOME', '.local/state'), 'margo-agent')
}

/** Agent configuration file (YAML). */
export function defaultAgentConfigPath(): string {
  return isRoot() ? '/etc/margo/agent.yaml' : join(xdg('XDG_CONFIG_HOME', '.config'), 'margo', 'agent.yaml')
}

/** Operator CLI login (server URL, token, CA), written by `margo login`. */
export function userConfigPath(): string {
  return join(xdg('XDG_CONFIG_HOME', '.config'), 'margo', 'config.yaml')
}

/** Files inside a server data directory. One place names them so the CLI and the server agree. */
export function dataDirFiles(dataDir: string) {
  return {
    database: join(dataDir, 'margo.db'),
    caCert: join(dataDir, 'tls', 'ca.pem'),
    caKey: join(dataDir, 'tls', 'ca.key'),
    serverCert: join(dataDir, 'tls', 'server.pem'),
    serverKey: join(dataDir, 'tls', 'server.key'),
    operatorToken: join(dataDir, 'operator-token'),
    /** 32 random bytes (base64, mode 0600) that seal secrets at rest; created at first start. */
    secretKey: join(dataDir, 'secret.key'),
    /** Written by a running `margo serve`: {url, operatorUrl, pid, version}; lets the CLI find it. */
    serverInfo: join(dataDir, 'server.json'),
    /** Held by the running `margo serve` (its pid) so a second one on this directory is refused. */
    serveLock: join(dataDir, 'serve.lock'),
  }
}
