/** What the integration tiers that drive a real docker engine share. */

/** Runs a command to completion; a missing binary is exit 127, not an exception. */
export function run(argv: string[], env: Record<string, string> = {}): {code: number, out: string} {
  try {
    const r = Bun.spawnSync(argv, {stdout: 'pipe', stderr: 'pipe', env: {...process.env, ...env} as Record<string, string>})
    return {code: r.exitCode, out: `${r.stdout.toString()}${r.stderr.toString()}`}
  } catch (e) {
    return {code: 127, out: (e as Error).message}
  }
}

/** Whether the engine tier runs here (MARGO_INTEGRATION=1 sets it up; else an engine must answer), saying why not. */
export function engineTierEnabled(what: string): boolean {
  const enabled = process.env.MARGO_INTEGRATION === '1' || run(['docker', 'info']).code === 0
  if (!enabled) {
    console.log(`${what} skipped: set MARGO_INTEGRATION=1 (installs and starts docker as root via test/integration/setup-docker.sh) or start a docker engine so \`docker info\` works`)
  }
  return enabled
}

/** A port nothing listens on right now, on 127.0.0.1. */
export function freeLoopbackPort(): number {
  const listener = Bun.listen({hostname: '127.0.0.1', port: 0, socket: {data() {}}})
  const port = listener.port
  listener.stop(true)
  return port
}
