import type {AgentKeyType} from '../agent/config/types.ts'
import {createSimulatedDrivers} from '../agent/drivers/simulated.ts'
import type {Logger} from '../util/log.ts'
import type {FetchLike} from '../agent/device-client.ts'
import {SimDevice, type Fleet} from './device.ts'
import {describeDistribution, sample, type Distribution} from './distribution.ts'
import {applyFails, firstPollDelay, type Rng} from './faults.ts'
import {REQUESTS_IN_FLIGHT, createGate, gatedFetch} from './request-gate.ts'
import {Wheel} from './scheduler.ts'
import {countStates, rate, summaryLine, type DeviceState, type Snapshot} from './summary.ts'

export interface SimulateOptions {
  server: string
  caPem: string
  devices: number
  pollIntervalMs: number
  applyTime: Distribution
  failRate: number
  offlineRate: number
  outage: Distribution
  keyType: AgentKeyType
  stateDir?: string
  /** Labels per device index; the runner calls `applyLabels` for those with any. */
  labelsFor?: (index: number) => Record<string, string>
  applyLabels?: (clientId: string, labels: Record<string, string>) => Promise<void>
  /** Stop after this long; otherwise only the signal stops it. */
  durationMs?: number
  /** Device cycles in flight at once, at most. */
  concurrency?: number
  /** Requests to the fleet manager in flight at once, at most (REQUESTS_IN_FLIGHT). */
  requestsInFlight?: number
  /** The devices' transport; `fetch` unless a test replaces it. */
  fetch?: FetchLike
  rng?: Rng
  log: Logger
  signal: AbortSignal
  /** Progress: `live` lines replace each other (a terminal), otherwise one line per `everyMs`. */
  progress?: {write(line: string, live: boolean): void, live: boolean, everyMs: number}
}

export interface SimulationReport extends Snapshot {
  server: string
  pollIntervalSeconds: number
  applyTime: string
  failRate: number
  offlineRate: number
  lastError: string | null
  /** Every failed deployment, per device. */
  failures: {device: string, clientId: string | null, deploymentId: string, code: string, message: string}[]
  /** Resident memory of this process at the end, for sizing a rehearsal. */
  rssMiB: number
}

const name = (i: number, count: number) => `sim-${String(i + 1).padStart(Math.max(4, String(count).length), '0')}`

/**
 * Runs `devices` simulated devices until the signal or the duration ends them. One timer
 * (a heap of due times) drives every device; at most `concurrency` cycles run at once.
 */
export async function runSimulation(opts: SimulateOptions): Promise<SimulationReport> {
  const rng = opts.rng ?? Math.random
  const stop = new AbortController()
  const onAbort = () => stop.abort()
  opts.signal.addEventListener('abort', onAbort, {once: true})
  const durationTimer = opts.durationMs !== undefined ? setTimeout(onAbort, opts.durationMs) : undefined

  const drivers = createSimulatedDrivers({
    applyTimeMs: () => sample(opts.applyTime, rng),
    failure: () => applyFails(opts.failRate, rng) ? `simulated failure (margo simulate --fail-rate ${opts.failRate})` : null,
  })
  const labelsFor = opts.labelsFor
  const applyLabels = opts.applyLabels
  // Device requests and label requests share the server's keep-alive connections, hence one gate.
  const gate = createGate(opts.requestsInFlight ?? REQUESTS_IN_FLIGHT)
  const fleet: Fleet = {
    server: opts.server, caPem: opts.caPem, pollIntervalMs: opts.pollIntervalMs, keyType: opts.keyType,
    ...(opts.stateDir ? {stateDir: opts.stateDir} : {}),
    drivers, offline: {rate: opts.offlineRate, outage: opts.outage}, rng, log: opts.log, signal: stop.signal,
    counters: {polls: 0, errors: 0, lastError: null},
    fetch: gatedFetch(gate, opts.fetch),
    ...(labelsFor && applyLabels ? {applyLabels: (index: number, clientId: string) => gate.run(() => applyLabels(clientId, labelsFor(index)))} : {}),
  }
  const devices = Array.from({length: opts.devices}, (_, i) => new SimDevice(i, name(i, opts.devices), fleet))
  const wheel = new Wheel()
  const started = Date.now()
  for (const d of devices) wheel.schedule(d.index, started + firstPollDelay(d.index, devices.length, opts.pollIntervalMs, rng))

  const concurrency = Math.max(1, opts.concurrency ?? 256)
  let inFlight = 0
  let wake: (() => void) | null = null
  const samples: {at: number, polls: number}[] = []
  const snapshot = (): Snapshot => {
    const now = Date.now()
    samples.push({at: now, polls: fleet.counters.polls})
    while (samples.length > 2 && now - samples[0]!.at > 10_000) samples.shift()
    return {
      devices: devices.length,
      states: countStates(devices.map(d => d.state(now)) as DeviceState[]),
      polls: fleet.counters.polls,
      pollsPerSecond: Number(rate(samples).toFixed(2)),
      errors: fleet.counters.errors,
      elapsedSeconds: Math.round((now - started) / 100) / 10,
    }
  }

  const progress = opts.progress
  let lastProgress = started
  const runCycle = (d: SimDevice) => {
    inFlight++
    d.cycle()
      .then(next => wheel.schedule(d.index, next))
      .catch(err => {
        // An unexpected error must not end the whole fleet: note it and try again later.
        fleet.counters.errors++
        fleet.counters.lastError = `${d.name}: ${(err as Error).message}`
        opts.log.error('simulate.device_error', {device: d.name, error: (err as Error).stack ?? String(err)})
        wheel.schedule(d.index, Date.now() + opts.pollIntervalMs)
      })
      .finally(() => {
        inFlight--
        wake?.()
      })
  }

  while (!stop.signal.aborted) {
    const now = Date.now()
    for (const id of wheel.takeDue(now, concurrency - inFlight)) runCycle(devices[id]!)
    if (progress && now - lastProgress >= (progress.live ? 1000 : progress.everyMs)) {
      lastProgress = now
      progress.write(summaryLine(snapshot()), progress.live)
    }
    const nextAt = wheel.nextAt()
    const untilProgress = progress ? lastProgress + (progress.live ? 1000 : progress.everyMs) - now : 1000
    const waitMs = Math.max(1, Math.min(inFlight >= concurrency ? untilProgress : (nextAt ?? Infinity) - now, untilProgress, 1000))
    await new Promise<void>(resolve => {
      const timer = setTimeout(done, waitMs)
      function done() {
        clearTimeout(timer)
        stop.signal.removeEventListener('abort', done)
        wake = null
        resolve()
      }
      wake = inFlight >= concurrency ? done : null
      stop.signal.addEventListener('abort', done, {once: true})
    })
  }

  // Requests in flight were aborted with the signal; give the cycles a moment to unwind.
  const deadline = Date.now() + 5000
  while (inFlight > 0 && Date.now() < deadline) await Bun.sleep(20)
  if (durationTimer) clearTimeout(durationTimer)
  opts.signal.removeEventListener('abort', onAbort)

  const final = snapshot()
  final.pollsPerSecond = Number((fleet.counters.polls / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(2))
  if (progress) progress.write(summaryLine(final), progress.live)
  return {
    ...final,
    server: opts.server,
    pollIntervalSeconds: opts.pollIntervalMs / 1000,
    applyTime: describeDistribution(opts.applyTime),
    failRate: opts.failRate,
    offlineRate: opts.offlineRate,
    lastError: fleet.counters.lastError,
    failures: devices.flatMap(d => d.failed().map(f => ({device: d.name, clientId: d.id ?? null, ...f}))),
    rssMiB: Math.round(process.memoryUsage.rss() / 1048576),
  }
}
