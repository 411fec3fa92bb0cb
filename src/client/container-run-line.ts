/** The `docker run` line that starts the agent's container image on a device. */

export const CONTAINER_STATE_DIR = '/var/lib/margo-agent'
export const DOCKER_SOCKET = '/var/run/docker.sock'
const KUBECONFIG_IN_CONTAINER = '/etc/margo/kubeconfig'

export interface ContainerRunOptions {
  /** The device API URL the agent polls. */
  server: string
  /** `sha256:<hex>` of the fleet manager's root CA: the agent trusts the CA it downloads only if it matches. */
  caFingerprint: string
  /** The agent image, e.g. margo-agent:0.1.0. */
  image: string
  /**
   * Join token that vouches for the device (a secret): the agent presents it once before it
   * onboards, and the device is active at once with the token's labels. Without one it waits for approval.
   */
  joinToken?: string
  /** Host directory for identity, outbox, journal and workload files (default /var/lib/margo-agent). */
  stateDir?: string
  name?: string
  /** A kubeconfig on the host, for the helm.v3 profile: mounted read-only and named by KUBECONFIG. */
  kubeconfig?: string
  /** More environment for the agent, e.g. MARGO_POLL_INTERVAL. */
  env?: Record<string, string>
}

/**
 * The arguments after `docker`. The state dir is bind-mounted at the same path inside and out:
 * the agent hands compose files from it to the host's engine, which resolves their relative bind
 * mounts on the host. Host networking, because the agent reaches the fleet manager and package
 * servers as the device does (loopback included). `--restart unless-stopped` brings the agent back
 * after a reboot; the workloads it started belong to the host's engine and never stop with it.
 */
export function containerRunArgs(o: ContainerRunOptions): string[] {
  const fp = /^sha256:[0-9a-f]{64}$/.exec(o.caFingerprint)?.[0]
  if (!fp) throw new Error(`the CA fingerprint ${JSON.stringify(o.caFingerprint)} is not sha256:<64 hex>`)
  const stateDir = (o.stateDir ?? CONTAINER_STATE_DIR).replace(/\/+$/, '') || '/'
  if (!stateDir.startsWith('/')) throw new Error(`the state dir ${stateDir} must be an absolute path on the device`)
  const args = [
    'run', '-d', '--name', o.name ?? 'margo-agent', '--restart', 'unless-stopped', '--network', 'host',
    '-v', `${stateDir}:${stateDir}`, '-v', `${DOCKER_SOCKET}:${DOCKER_SOCKET}`,
  ]
  if (o.kubeconfig) args.push('-v', `${o.kubeconfig}:${KUBECONFIG_IN_CONTAINER}:ro`, '-e', `KUBECONFIG=${KUBECONFIG_IN_CONTAINER}`)
  if (stateDir !== CONTAINER_STATE_DIR) args.push('-e', `MARGO_AGENT_STATE_DIR=${stateDir}`)
  args.push('-e', `MARGO_SERVER=${o.server}`, '-e', `MARGO_CA_FINGERPRINT=${fp}`)
  if (o.joinToken) args.push('-e', `MARGO_JOIN_TOKEN=${o.joinToken}`)
  for (const [k, v] of Object.entries(o.env ?? {})) args.push('-e', `${k}=${v}`)
  args.push(o.image)
  return args
}

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/

function shellQuote(s: string): string {
  return SAFE.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

/** One line to paste on the device as root. */
export function containerRunLine(o: ContainerRunOptions): string {
  return ['docker', ...containerRunArgs(o)].map(shellQuote).join(' ')
}
