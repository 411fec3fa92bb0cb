import {existsSync, readFileSync} from 'node:fs'
import {parseCertificate} from '../pki/index.ts'
import {NotFoundError} from '../util/errors.ts'
import {identityFiles, loadClientId} from './identity.ts'
import {loadJoinRecord} from './join.ts'
import {loadAccepted} from './state/accepted.ts'
import {Outbox} from './state/outbox.ts'
import {StateDir} from './state/state-dir.ts'
import {WorkloadStore} from './state/workloads.ts'

export const SYNC_FILE = 'sync.json'

/** The last poll: written by the agent (throttled), read by `margo agent status`. */
export interface SyncRecord {
  at: string
  outcome: string
  detail?: string
  /** The last poll that succeeded, carried over while polls fail, so health survives one bad poll. */
  lastSuccessAt?: string
}

/** Poll outcomes in which the agent reached the WFM and holds its desired state. */
const SUCCESSFUL_OUTCOMES = new Set(['not-modified', 'same', 'accepted'])

export function isSuccessfulOutcome(outcome: string): boolean {
  return SUCCESSFUL_OUTCOMES.has(outcome)
}

/** When the agent last polled successfully, as far as its last record tells. */
export function lastSuccessOf(record: SyncRecord | null): string | undefined {
  if (!record) return undefined
  return isSuccessfulOutcome(record.outcome) ? record.at : record.lastSuccessAt
}

/** The record of a poll at `at`; a failed one keeps the time of the last good one from `prev`. */
export function nextSyncRecord(prev: SyncRecord | null, at: Date, outcome: string, detail?: string): SyncRecord {
  const record: SyncRecord = detail ? {at: at.toISOString(), outcome, detail} : {at: at.toISOString(), outcome}
  const lastSuccess = isSuccessfulOutcome(outcome) ? undefined : lastSuccessOf(prev)
  if (lastSuccess) record.lastSuccessAt = lastSuccess
  return record
}

/** Three default poll intervals: one missed poll is not yet a reason to restart the agent. */
export const DEFAULT_HEALTHY_MAX_AGE_MS = 900_000

export interface AgentHealth {
  healthy: boolean
  reason: string
}

/**
 * Healthy when the agent is onboarded and polled the WFM successfully within `maxAgeMs`.
 * A container engine restarts or flags the agent on the exit code, so the reason says what to look at.
 */
export function agentHealth(status: AgentStatus, now: Date, maxAgeMs: number = DEFAULT_HEALTHY_MAX_AGE_MS): AgentHealth {
  if (!status.clientId) return {healthy: false, reason: 'not onboarded yet'}
  const success = lastSuccessOf(status.lastSync)
  if (!success) {
    const last = status.lastSync
    return {healthy: false, reason: last ? `no successful poll yet (last: ${last.outcome}${last.detail ? `: ${last.detail}` : ''})` : 'no poll recorded yet'}
  }
  const ageMs = now.getTime() - Date.parse(success)
  const age = `${Math.round(ageMs / 1000)}s ago`
  if (!(ageMs <= maxAgeMs)) {
    const last = status.lastSync!
    const why = isSuccessfulOutcome(last.outcome) ? '' : `; last poll ${last.at}: ${last.outcome}${last.detail ? `: ${last.detail}` : ''}`
    return {healthy: false, reason: `last successful poll ${success} (${age}), longer ago than ${Math.round(maxAgeMs / 1000)}s${why}`}
  }
  return {healthy: true, reason: `last successful poll ${success} (${age})`}
}

export interface AgentStatus {
  stateDir: string
  clientId: string | null
  /**
   * `sha256:<hex>` of the device certificate: what an operator compares before approving
   * (margo device approve and margo device show print the server's side).
   */
  fingerprint?: string | null
  /** The outcome of presenting a join token, if one was. */
  join?: {at: string, outcome: 'admitted' | 'refused', joinTokenId?: string, code?: string, message?: string} | null
  server: string | null
  onboardedAt: string | null
  lastSync: SyncRecord | null
  manifestVersion: number | null
  adoptedAt: string | null
  deployments: {deploymentId: string, state: string, digest: string, profile: string | null, components: {name: string, state: string}[], error: {code: string, message: string} | null, busy: string | null, nextAttemptAt: string | null}[]
  pendingReports: number
}

/** The fingerprint of a certificate file, or null when there is none yet. */
function certificateFingerprint(path: string): string | null {
  let pem: string
  try {
    pem = readFileSync(path, 'utf8')
  } catch {
    return null
  }
  const parsed = parseCertificate(pem)
  return parsed.ok ? parsed.fingerprint : null
}

/** No state directory: the agent never ran here, or --state-dir points elsewhere. */
export class NoAgentStateError extends NotFoundError {}

/** What the agent knows, read from its state dir only: works while the agent runs or is stopped. */
export function readAgentStatus(stateDir: string): AgentStatus {
  if (!existsSync(stateDir)) throw new NoAgentStateError(`no agent state in ${stateDir} — has margo agent run here? (pass --state-dir)`)
  const sd = new StateDir(stateDir)
  const identity = loadClientId(stateDir)
  const accepted = loadAccepted(sd)
  const workloads = new WorkloadStore(sd).all()
  const joined = loadJoinRecord(sd)
  return {
    stateDir,
    clientId: identity?.clientId ?? null,
    fingerprint: identity ? `sha256:${identity.fingerprint}` : joined?.fingerprint ?? certificateFingerprint(identityFiles(stateDir).cert),
    join: joined ? {at: joined.at, outcome: joined.outcome, ...(joined.joinTokenId ? {joinTokenId: joined.joinTokenId} : {}), ...(joined.code ? {code: joined.code, message: joined.message} : {})} : null,
    server: identity?.server ?? null,
    onboardedAt: identity?.onboardedAt ?? null,
    lastSync: sd.readJson<SyncRecord>(SYNC_FILE),
    manifestVersion: accepted?.manifestVersion ?? null,
    adoptedAt: accepted?.acceptedAt ?? null,
    deployments: workloads.map(w => ({
      deploymentId: w.deploymentId, state: w.state, digest: w.digest, profile: w.profileType,
      components: w.components.map(c => ({name: c.name, state: c.state})),
      error: w.lastError ?? null,
      busy: w.intent ? `${w.intent.action} since ${w.intent.since}` : null,
      nextAttemptAt: w.nextAttemptAt,
    })),
    pendingReports: new Outbox(sd).pending().length,
  }
}

export function renderAgentStatus(s: AgentStatus): string {
  const lines = [
    `client:            ${s.clientId ?? '(not onboarded)'}`,
    `certificate:       ${s.fingerprint ?? '-'}`,
    ...(s.join ? [`join token:        ${s.join.outcome === 'admitted' ? `admitted by ${s.join.joinTokenId}` : `refused (${s.join.code}): ${s.join.message}`} at ${s.join.at}`] : []),
    `server:            ${s.server ?? '-'}`,
    `state dir:         ${s.stateDir}`,
    `last sync:         ${s.lastSync ? `${s.lastSync.at} (${s.lastSync.outcome}${s.lastSync.detail ? `: ${s.lastSync.detail}` : ''})` : '-'}`,
    `manifest version:  ${s.manifestVersion ?? '-'}${s.adoptedAt ? ` (adopted ${s.adoptedAt})` : ''}`,
    `pending reports:   ${s.pendingReports}`,
    '',
  ]
  if (s.deployments.length === 0) lines.push('no deployments')
  else {
    const rows = s.deployments.map(d => [d.deploymentId, d.state, d.profile ?? '-', d.components.map(c => `${c.name}=${c.state}`).join(' '), d.error ? `${d.error.code}: ${d.error.message}` : d.busy ?? ''])
    const header = ['DEPLOYMENT', 'STATE', 'PROFILE', 'COMPONENTS', 'NOTE']
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i]!.length)))
    for (const r of [header, ...rows]) lines.push(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd())
  }
  return lines.join('\n')
}
