import {parseDeploymentStatus, type DeploymentStatusManifest} from '../../margo/status.ts'
import {OUTBOX_FILE, type StateStore} from './state-dir.ts'

export interface OutboxEntry {
  seq: number
  deploymentId: string
  report: DeploymentStatusManifest
}

interface OutboxFile {
  format: 1
  /** The last sequence number issued; kept when the outbox empties so numbers never repeat. */
  seq: number
  entries: OutboxEntry[]
}

export const DEFAULT_OUTBOX_LIMIT = 1000

/**
 * Status reports waiting to reach the WFM (spec §7, A31). Only the latest report per
 * deployment is kept, because the WFM needs the current state, not the history; each report
 * gets the next number of a persisted sequence, so pending reports go out in the order the
 * states changed, also across restarts. An acknowledgement names the number it confirms, so
 * a report that replaced the one in flight is not lost. The outbox is durable before `put`
 * returns. Beyond `limit` deployments the oldest reports give way, so a WFM that never
 * answers cannot grow the file without bound.
 */
export class Outbox {
  private seq = 0
  private readonly entries = new Map<string, OutboxEntry>()

  constructor(private readonly sd: StateStore, private readonly limit = DEFAULT_OUTBOX_LIMIT) {
    const file = sd.readJson(OUTBOX_FILE, isOutboxFile)
    if (file === null) return
    this.seq = file.seq
    for (const e of file.entries) {
      // a report that no longer validates would be refused by the WFM forever
      if (parseDeploymentStatus(e.report).ok) this.entries.set(e.deploymentId.toLowerCase(), e)
      this.seq = Math.max(this.seq, e.seq)
    }
  }

  /**
   * Queues `report`, replacing any unsent report for the same deployment; returns its
   * number. A report equal to the one already waiting keeps that one's number and costs no
   * write.
   */
  put(report: DeploymentStatusManifest): number {
    const waiting = this.entries.get(report.deploymentId.toLowerCase())
    if (waiting !== undefined && JSON.stringify(waiting.report) === JSON.stringify(report)) return waiting.seq
    const entry: OutboxEntry = {seq: ++this.seq, deploymentId: report.deploymentId, report: structuredClone(report)}
    this.entries.set(report.deploymentId.toLowerCase(), entry)
    if (this.entries.size > this.limit) {
      const oldest = [...this.entries.entries()].sort((a, b) => a[1].seq - b[1].seq).slice(0, this.entries.size - this.limit)
      for (const [key] of oldest) this.entries.delete(key)
    }
    this.save()
    return entry.seq
  }

  /** Unsent reports, oldest state change first. */
  pending(): OutboxEntry[] {
    return [...this.entries.values()].sort((a, b) => a.seq - b.seq).map(e => structuredClone(e))
  }

  /** Removes the report numbered `seq` once the WFM took it; false when a newer one replaced it meanwhile. */
  ack(deploymentId: string, seq: number): boolean {
    const key = deploymentId.toLowerCase()
    if (this.entries.get(key)?.seq !== seq) return false
    this.entries.delete(key)
    this.save()
    return true
  }

  get size(): number {
    return this.entries.size
  }

  private save(): void {
    this.sd.writeJson(OUTBOX_FILE, {format: 1, seq: this.seq, entries: this.pending()} satisfies OutboxFile)
  }
}

function isOutboxFile(v: unknown): v is OutboxFile {
  if (typeof v !== 'object' || v === null) return false
  const f = v as Record<string, unknown>
  return f.format === 1 && Number.isSafeInteger(f.seq) && Array.isArray(f.entries) && f.entries.every(e =>
    typeof e === 'object' && e !== null && Number.isSafeInteger(e.seq) && typeof e.deploymentId === 'string' && typeof e.report === 'object' && e.report !== null)
}
