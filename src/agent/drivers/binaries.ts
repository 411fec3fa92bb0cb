import {accessSync, constants, statSync} from 'node:fs'
import {runCommand, type RunOptions} from './exec.ts'

/**
 * Finds an executable: the configured path when given (it must exist and be executable, or
 * nothing is returned; a configured path never silently falls back to PATH), else the first
 * match on PATH.
 */
export function findBinary(name: string, configured?: string, path: string | undefined = process.env.PATH): string | undefined {
  if (configured) return isExecutable(configured) ? configured : undefined
  const found = Bun.which(name, {PATH: path ?? ''})
  return found ?? undefined
}

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** How to invoke Compose on this device and what that implementation understands. */
export interface ComposeTool {
  /** The command prefix: `[docker, 'compose']` or `[docker-compose]`. */
  argv: string[]
  /** The version it reported, e.g. `2.27.0` or `1.29.2`. */
  version: string
  /**
   * Compose v2 semantics: `up --wait`, `ps --all --format json`. A `docker compose` plugin that
   * forwards to docker-compose 1.x reports a 1.x version and is treated as v1.
   */
  v2: boolean
}

const VERSION_PATTERN = /version\s+v?(\d+)\.(\d+)(?:\.(\d+))?([0-9A-Za-z.+~-]*)/i

/** Reads the version from `docker compose version` / `docker-compose version` output. */
export function parseComposeVersion(output: string): {version: string, major: number} | undefined {
  const m = VERSION_PATTERN.exec(output.split('\n', 1)[0] ?? '')
  if (!m) return undefined
  const version = `${m[1]}.${m[2]}${m[3] !== undefined ? `.${m[3]}` : ''}${m[4] ?? ''}`
  return {version, major: Number(m[1])}
}

/**
 * Finds a working Compose: the `docker compose` plugin first, else the standalone
 * `docker-compose`. Undefined when neither answers `version`.
 */
export async function detectCompose(paths: {docker?: string, dockerCompose?: string}, options: Pick<RunOptions, 'env' | 'signal'> = {}): Promise<ComposeTool | undefined> {
  const candidates: string[][] = []
  if (paths.docker) candidates.push([paths.docker, 'compose'])
  if (paths.dockerCompose) candidates.push([paths.dockerCompose])
  for (const prefix of candidates) {
    const result = await runCommand([...prefix, 'version'], {...options, timeoutMs: 30_000})
    if (result.outcome !== 'exited' || result.code !== 0) continue
    const parsed = parseComposeVersion(result.stdout) ?? parseComposeVersion(result.stderr)
    if (!parsed) continue
    return {argv: prefix, version: parsed.version, v2: parsed.major >= 2}
  }
  return undefined
}
