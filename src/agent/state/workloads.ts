import {join} from 'node:path'
import {parseDigest, verifyDigest} from '../../margo/digest.ts'
import {isUuid} from '../../margo/uuid.ts'
import {isDeploymentState, type DeploymentState} from '../../margo/status.ts'
import {PROFILE_TYPES, type ProfileType} from '../../margo/vocabulary.ts'
import type {ComponentResult, ReportedError} from '../types.ts'
import {ARTIFACTS_DIR, WORKLOADS_FILE, type StateStore} from './state-dir.ts'

/** What the agent is about to do to a deployment; written before acting, cleared after. */
export interface WorkloadIntent {
  action: 'apply' | 'remove'
  digest: string
  since: string
}

export interface WorkloadRecord {
  deploymentId: string
  /** Digest of the YAML applied, or being applied. */
  digest: string
  /** Null when the YAML could not be used, so no driver was ever involved. */
  profileType: ProfileType | null
  components: ComponentResult[]
  state: DeploymentState
  /** Set while an action is in flight; found set on start means the agent stopped mid-way. */
  intent: WorkloadIntent | null
  attempts: number
  nextAttemptAt: string | null
  lastError?: ReportedError
  /** The last action that ran to its end (success or failure): tells a failed install from a failed removal. */
  lastAction?: 'apply' | 'remove' | null
  /**
   * A driver may have changed the host for this deployment: written before its tool first starts
   * and cleared by a complete removal, so a crash in between errs towards undoing. Records from
   * agents that did not keep it lack it; read those as true (see hostMayHaveChanged).
   */
  hostChanged?: boolean
}

/** False only when the record says no tool ever acted on the host for it. */
export function hostMayHaveChanged(record: WorkloadRecord | null | undefined): boolean {
  return record ? record.hostChanged !== false : false
}

interface WorkloadsFile {
  format: 1
  workloads: Record<string, unknown>
}

/**
 * The deployments the agent is responsible for, in memory and in workloads.json. Every
 * change is durable before the call returns, so a crash at any point leaves a record of what
 * was about to happen. Records are few (one per deployment), so the whole file is rewritten.
 * Ids are UUIDs and are keyed in lowercase, matching how the manifest compares them.
 */
export class WorkloadStore {
  private readonly records = new Map<string, WorkloadRecord>()

  constructor(private readonly sd: StateStore) {
    const file = sd.readJson(WORKLOADS_FILE, isWorkloadsFile)
    let dropped = false
    for (const value of Object.values(file?.workloads ?? {})) {
      if (isWorkloadRecord(value)) this.records.set(value.deploymentId.toLowerCase(), value)
      else dropped = true
    }
    // a damaged record is dropped alone rather than losing the others; a copy of the
    // original file is kept for inspection
    if (dropped) {
      sd.quarantine(WORKLOADS_FILE)
      this.save()
    }
    this.sweepOrphans()
  }

  all(): WorkloadRecord[] {
    return [...this.records.values()].map(clone)
  }

  get(deploymentId: string): WorkloadRecord | null {
    const r = this.records.get(deploymentId.toLowerCase())
    return r ? clone(r) : null
  }

  put(record: WorkloadRecord): void {
    if (!isWorkloadRecord(record)) throw new Error(`refusing to store an invalid workload record for ${JSON.stringify((record as {deploymentId?: unknown}).deploymentId)}`)
    this.records.set(record.deploymentId.toLowerCase(), clone(record))
    this.save()
  }

  /** Forgets the deployment and, afterwards, its stored YAMLs. */
  delete(deploymentId: string): void {
    if (this.records.delete(deploymentId.toLowerCase())) this.save()
    this.sd.remove(this.artifactDir(deploymentId))
  }

  /** Stores the exact YAML bytes; they must hash to `digest`. */
  saveYaml(deploymentId: string, digest: string, bytes: Uint8Array): void {
    if (!verifyDigest(bytes, digest)) throw new Error(`YAML bytes do not match ${digest}`)
    this.sd.writeBytes(this.yamlPath(deploymentId, digest), bytes)
  }

  /** The stored bytes, or null when absent or no longer matching their digest (a damaged copy is deleted). */
  loadYaml(deploymentId: string, digest: string): Uint8Array | null {
    const path = this.yamlPath(deploymentId, digest)
    const bytes = this.sd.readBytes(path)
    if (bytes === null) return null
    if (verifyDigest(bytes, digest)) return bytes
    this.sd.remove(path)
    return null
  }

  /** Deletes every stored version of the deployment except those listed. */
  pruneYamls(deploymentId: string, keepDigest: string | readonly string[]): void {
    const keep = new Set((typeof keepDigest === 'string' ? [keepDigest] : keepDigest).map(d => `${hexOf(d)}.yaml`))
    const dir = this.artifactDir(deploymentId)
    for (const f of this.sd.list(dir)) if (!keep.has(f)) this.sd.remove(join(dir, f))
  }

  private save(): void {
    const workloads: Record<string, WorkloadRecord> = {}
    for (const [key, r] of this.records) workloads[key] = r
    this.sd.writeJson(WORKLOADS_FILE, {format: 1, workloads} satisfies WorkloadsFile)
  }

  /**
   * YAML directories with no record: left when a crash came between storing a YAML and
   * recording the intent, or between forgetting a record and deleting its YAMLs. Nothing
   * refers to them, so they go.
   */
  private sweepOrphans(): void {
    for (const sub of this.sd.list(ARTIFACTS_DIR)) {
      if (!this.records.has(sub.toLowerCase()) && this.sd.isFolder(join(ARTIFACTS_DIR, sub))) this.sd.remove(join(ARTIFACTS_DIR, sub))
    }
  }

  private artifactDir(deploymentId: string): string {
    if (!isUuid(deploymentId)) throw new Error(`not a deployment id: ${JSON.stringify(deploymentId)}`)
    return join(ARTIFACTS_DIR, deploymentId.toLowerCase())
  }

  private yamlPath(deploymentId: string, digest: string): string {
    return join(this.artifactDir(deploymentId), `${hexOf(digest)}.yaml`)
  }
}

function hexOf(digest: string): string {
  const parsed = parseDigest(digest)
  if (!parsed.ok) throw new Error(`not a sha256 digest: ${JSON.stringify(digest)}`)
  return parsed.hex
}

function clone<T>(value: T): T {
  return structuredClone(value)
}

function isWorkloadsFile(v: unknown): v is WorkloadsFile {
  if (typeof v !== 'object' || v === null) return false
  const f = v as Record<string, unknown>
  return f.format === 1 && typeof f.workloads === 'object' && f.workloads !== null && !Array.isArray(f.workloads)
}

const isDigest = (v: unknown): v is string => typeof v === 'string' && parseDigest(v).ok
const isError = (v: unknown): v is ReportedError =>
  typeof v === 'object' && v !== null && typeof (v as ReportedError).code === 'string' && typeof (v as ReportedError).message === 'string'

export function isWorkloadRecord(v: unknown): v is WorkloadRecord {
  if (typeof v !== 'object' || v === null) return false
  const r = v as Record<string, unknown>
  const intent = r.intent as Record<string, unknown> | null
  return isUuid(r.deploymentId)
    && isDigest(r.digest)
    && (r.profileType === null || (PROFILE_TYPES as readonly unknown[]).includes(r.profileType))
    && Array.isArray(r.components)
    && r.components.every(c => typeof c === 'object' && c !== null && typeof c.name === 'string' && isDeploymentState(c.state) && (c.error === undefined || isError(c.error)))
    && isDeploymentState(r.state)
    && (intent === null || (typeof intent === 'object' && (intent.action === 'apply' || intent.action === 'remove') && isDigest(intent.digest) && typeof intent.since === 'string'))
    && Number.isSafeInteger(r.attempts) && (r.attempts as number) >= 0
    && (r.nextAttemptAt === null || typeof r.nextAttemptAt === 'string')
    && (r.lastError === undefined || isError(r.lastError))
    && (r.lastAction === undefined || r.lastAction === null || r.lastAction === 'apply' || r.lastAction === 'remove')
    && (r.hostChanged === undefined || typeof r.hostChanged === 'boolean')
}
