import type {DeploymentState} from '../../margo/status.ts'
import type {ReportedError} from '../types.ts'

/** One container of a compose project, as `ps` describes it. */
export interface ContainerInfo {
  name: string
  /** running, exited, restarting, paused, created, dead, removing. */
  state: string
  /** healthy, unhealthy, starting; empty without a healthcheck. */
  health: string
  exitCode?: number
}

/** `ps --format json` output: a JSON array (Compose before 2.21) or one JSON object per line. */
export function parsePsJson(output: string): ContainerInfo[] {
  const text = output.trim()
  if (text === '') return []
  const items: unknown[] = text.startsWith('[') ? (JSON.parse(text) as unknown[]) : text.split('\n').filter(l => l.trim() !== '').map(l => JSON.parse(l) as unknown)
  return items.map(item => {
    const c = (item ?? {}) as Record<string, unknown>
    const info: ContainerInfo = {
      name: String(c.Name ?? c.Service ?? ''),
      state: String(c.State ?? '').toLowerCase(),
      health: String(c.Health ?? '').toLowerCase(),
    }
    if (typeof c.ExitCode === 'number') info.exitCode = c.ExitCode
    return info
  })
}

const V1_STATE = /^(Up(?: \((healthy|unhealthy|health: starting)\))?|Exit (-?\d+)|Restarting|Paused|Created|Dead|Removal In Progress)$/

/**
 * docker-compose 1.x `ps` table output. Columns are separated by runs of spaces and the header is
 * centred, so each row is split on three or more spaces and the state is the last cell that
 * reads like one (ports follow it, the command precedes it).
 */
export function parsePsTable(output: string): ContainerInfo[] {
  const lines = output.replace(/\r/g, '').split('\n')
  const rule = lines.findIndex(l => /^-{3,}\s*$/.test(l))
  if (rule < 0) return []
  const out: ContainerInfo[] = []
  for (const line of lines.slice(rule + 1)) {
    if (line.trim() === '') continue
    const cells = line.trim().split(/\s{3,}/)
    const name = cells[0] ?? ''
    const stateCell = [...cells.slice(1)].reverse().find(c => V1_STATE.test(c))
    const m = stateCell ? V1_STATE.exec(stateCell) : null
    if (!m) {
      out.push({name, state: 'unknown', health: ''})
      continue
    }
    const word = m[1]!
    if (word.startsWith('Up')) out.push({name, state: 'running', health: m[2] === 'health: starting' ? 'starting' : m[2] ?? ''})
    else if (m[3] !== undefined) out.push({name, state: 'exited', health: '', exitCode: Number(m[3])})
    else out.push({name, state: word === 'Removal In Progress' ? 'removing' : word.toLowerCase(), health: ''})
  }
  return out
}

export type ContainerVerdict = 'ready' | 'starting' | 'failed' | 'removing'

/**
 * Running (and healthy when checked) or finished with exit code 0 is ready; a non-zero exit,
 * a restart loop, an unhealthy or paused container is failed.
 */
export function containerVerdict(c: ContainerInfo): ContainerVerdict {
  switch (c.state) {
    case 'running':
      if (c.health === 'unhealthy') return 'failed'
      return c.health === 'starting' ? 'starting' : 'ready'
    case 'exited':
      return c.exitCode === 0 ? 'ready' : 'failed'
    case 'created':
      return 'starting'
    case 'removing':
      return 'removing'
    default:
      return 'failed'
  }
}

function describe(c: ContainerInfo): string {
  if (c.state === 'exited') return `${c.name} exited with code ${c.exitCode ?? '?'}`
  if (c.health) return `${c.name} is ${c.state} (${c.health})`
  return `${c.name} is ${c.state}`
}

/** The component state a project's containers amount to. No containers at all means the workload is absent: `removed`. */
export function projectState(containers: readonly ContainerInfo[]): {state: DeploymentState, error?: ReportedError} {
  if (containers.length === 0) return {state: 'removed'}
  const verdicts = containers.map(c => ({c, v: containerVerdict(c)}))
  const failed = verdicts.filter(x => x.v === 'failed')
  if (failed.length > 0) return {state: 'failed', error: {code: 'COMPOSE_CONTAINER_FAILED', message: failed.map(x => describe(x.c)).join('; ')}}
  if (verdicts.some(x => x.v === 'removing')) return {state: 'removing'}
  if (verdicts.some(x => x.v === 'starting')) return {state: 'installing'}
  return {state: 'installed'}
}
