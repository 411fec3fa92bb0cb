import {resolveConnection, readCaFile} from '../client/connection.ts'
import {OperatorClient} from '../client/operator-client.ts'
import {labelDevice} from '../client/rollouts.ts'
import type {AgentKeyType} from '../agent/config/types.ts'
import {parseDuration} from '../util/duration.ts'
import {UsageError} from '../util/errors.ts'
import {createLogger, type LogLevel} from '../util/log.ts'
import {describeDistribution, parseDistribution} from './distribution.ts'
import {parseRate, seededRandom} from './faults.ts'
import {labelsFor, parseLabelSpecs} from './labels.ts'
import {runSimulation, type SimulateOptions, type SimulationReport} from './runner.ts'
import {summaryLine} from './summary.ts'

export {runSimulation, type SimulationReport} from './runner.ts'

/** The flags of `margo simulate`, as the command received them. */
export interface SimulateFlags {
  server: string
  caFile: string
  devices: number
  pollInterval: string
  applyTime: string
  failRate: string
  offlineRate: string
  offlineTime: string
  labels: string[]
  stateDir?: string
  keyType: string
  duration?: string
  seed?: number
  concurrency: number
  token?: string
  dataDir?: string
  json: boolean
  logLevel: string
}

export const MAX_DEVICES = 100_000

/** Flags → validated options, every problem named by its flag; no I/O besides reading the CA file. */
export function simulateOptions(flags: SimulateFlags): Omit<SimulateOptions, 'log' | 'signal' | 'progress' | 'applyLabels'> {
  let url: URL
  try {
    url = new URL(flags.server)
  } catch {
    throw new UsageError(`--server ${JSON.stringify(flags.server)} is not a URL: give the fleet manager's device URL, e.g. https://127.0.0.1:8443`)
  }
  if (url.protocol !== 'https:') throw new UsageError('--server must be an https:// URL: devices only talk to the fleet manager over TLS')
  if (!Number.isInteger(flags.devices) || flags.devices < 1 || flags.devices > MAX_DEVICES) throw new UsageError(`--devices must be a whole number from 1 to ${MAX_DEVICES}`)
  const duration = (flag: string, text: string) => {
    try {
      return parseDuration(text)
    } catch (err) {
      throw new UsageError(`${flag}: ${(err as Error).message}`)
    }
  }
  const pollIntervalMs = duration('--poll-interval', flags.pollInterval)
  if (pollIntervalMs < 100) throw new UsageError('--poll-interval must be at least 100ms')
  if (!['p256', 'p384', 'rsa2048'].includes(flags.keyType)) throw new UsageError('--key-type must be p256, p384 or rsa2048')
  const specs = parseLabelSpecs(flags.labels)
  const rng = flags.seed !== undefined ? seededRandom(flags.seed) : Math.random
  return {
    server: flags.server.replace(/\/+$/, ''),
    caPem: readCaFile(flags.caFile, '--ca-file'),
    devices: flags.devices,
    pollIntervalMs,
    applyTime: parseDistribution(flags.applyTime, '--apply-time'),
    failRate: parseRate(flags.failRate, '--fail-rate'),
    offlineRate: parseRate(flags.offlineRate, '--offline-rate'),
    outage: parseDistribution(flags.offlineTime, '--offline-time'),
    keyType: flags.keyType as AgentKeyType,
    ...(flags.stateDir ? {stateDir: flags.stateDir} : {}),
    ...(specs.length > 0 ? {labelsFor: (i: number) => labelsFor(specs, i)} : {}),
    ...(flags.duration !== undefined ? {durationMs: duration('--duration', flags.duration)} : {}),
    concurrency: flags.concurrency,
    rng,
  }
}

export interface SimulateIo {
  stdout: {write(text: string): void, isTTY?: boolean}
  stderr: {write(text: string): void}
  signals?: NodeJS.Signals[]
  userAgent?: string
}

/**
 * `margo simulate`: run the fleet until SIGINT/SIGTERM or --duration, showing progress, then
 * print the summary (one JSON document with --json).
 */
export async function simulateMain(flags: SimulateFlags, io: SimulateIo): Promise<SimulationReport> {
  const options = simulateOptions(flags)
  const log = createLogger({level: flags.logLevel as LogLevel, write: line => io.stderr.write(`${line}\n`)})

  // Devices cannot name their own labels in the Margo device interface; an operator sets them.
  // Resolved before any device starts, so a missing token stops the run at once.
  const operator = options.labelsFor
    ? new OperatorClient(resolveConnection({
      server: new URL(options.server).origin,
      caFile: flags.caFile,
      ...(flags.token ? {token: flags.token} : {}),
      ...(flags.dataDir ? {dataDir: flags.dataDir} : {}),
    }), {...(io.userAgent ? {userAgent: io.userAgent} : {})})
    : undefined
  const applyLabels = async (clientId: string, labels: Record<string, string>) => {
    if (operator) await labelDevice(operator, clientId, Object.entries(labels).map(([k, v]) => `${k}=${v}`))
  }

  const controller = new AbortController()
  const signals = io.signals ?? ['SIGINT', 'SIGTERM']
  const onSignal = () => controller.abort()
  for (const s of signals) process.on(s, onSignal)
  const live = io.stdout.isTTY === true && !flags.json
  const out = flags.json ? io.stderr : io.stdout
  io.stderr.write(`simulating ${options.devices} devices against ${options.server}: polls every ${options.pollIntervalMs / 1000}s, applies take ${describeDistribution(options.applyTime)}, ${options.failRate * 100}% fail, ${options.offlineRate * 100}% offline${options.stateDir ? `, identities in ${options.stateDir}` : ''} — Ctrl-C stops\n`)
  try {
    const report = await runSimulation({
      ...options,
      ...(options.labelsFor ? {applyLabels} : {}),
      log, signal: controller.signal,
      progress: {
        live,
        everyMs: 10_000,
        write: (line, isLive) => out.write(isLive ? `\r\x1b[2K${line}` : `${line}\n`),
      },
    })
    if (live) out.write('\n')
    if (flags.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    else io.stdout.write(renderReport(report))
    return report
  } finally {
    for (const s of signals) process.off(s, onSignal)
  }
}

function renderReport(r: SimulationReport): string {
  const lines = [`final: ${summaryLine(r)}`, `memory: ${r.rssMiB} MiB resident`]
  if (r.lastError) lines.push(`last error: ${r.lastError}`)
  for (const f of r.failures.slice(0, 20)) lines.push(`failed\t${f.device}\t${f.clientId ?? '-'}\t${f.deploymentId}\t${f.code}\t${f.message}`)
  if (r.failures.length > 20) lines.push(`… and ${r.failures.length - 20} more failed deployments (--json lists them all)`)
  return `${lines.join('\n')}\n`
}
