/**
 * What a conformance run creates on a WFM through its operator API, recorded the moment it
 * exists, so that the undo at the end (normal end, failure or Ctrl-C) removes exactly that and
 * never touches anything else on the fleet.
 *
 * Devices are the run's own when their certificate is one the run made or was given and they
 * were not on the WFM before the run started: a device of the fleet that happens to use the
 * `--cert` given to the run stays as it is. The operator API has no way to delete a device, so
 * the run's devices are revoked (they can no longer make a request) and labelled with the run's
 * id so they can be told apart in `margo device list`.
 */
import {randomBytes} from 'node:crypto'
import {parseCertificate} from '../../pki/index.ts'
import type {Device} from '../../operator-contract/views.ts'

/** The label a run's revoked devices carry; its value is the run id. */
export const RUN_LABEL = 'margo-conformance-run'

export interface PublishedApp {
  appId: string
  version: string
}

/** A run id that is also a valid label value: `20250131t142501-3fa9c2`. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').toLowerCase()
  return `${stamp}-${randomBytes(3).toString('hex')}`
}

/** The `sha256:<hex>` fingerprint the WFM files a device certificate under, or undefined for one it cannot read. */
export function certificateFingerprint(certPem: string): string | undefined {
  const parsed = parseCertificate(certPem)
  return parsed.ok ? parsed.fingerprint : undefined
}

export class RunLedger {
  readonly runId: string
  /** Certificates the run onboards (or may onboard) devices with. */
  readonly fingerprints = new Set<string>()
  readonly rollouts: string[] = []
  readonly denied: string[] = []
  /** Apps the run published new (not those that were there already). */
  readonly apps: PublishedApp[] = []
  readonly preregistered: string[] = []
  /** The clientIds on the WFM before the run; undefined until the run has looked. */
  devicesBefore: ReadonlySet<string> | undefined

  constructor(runId: string = newRunId()) {
    this.runId = runId
  }

  identity(certPem: string): void {
    const fp = certificateFingerprint(certPem)
    if (fp) this.fingerprints.add(fp)
  }

  rollout(rolloutId: string): void {
    this.rollouts.push(rolloutId)
  }

  deny(value: string): void {
    this.denied.push(value)
  }

  app(app: PublishedApp): void {
    this.apps.push(app)
  }

  preregistration(fingerprint: string): void {
    this.preregistered.push(fingerprint)
  }

  seenBefore(devices: readonly Pick<Device, 'clientId'>[]): void {
    this.devicesBefore = new Set(devices.map(d => d.clientId))
  }
}

/**
 * The run's own devices among `devices`: onboarded with one of its certificates, and not on the
 * WFM before the run. Without the list from before, none: the run cannot tell them apart.
 */
export function ownDevices(ledger: RunLedger, devices: readonly Device[]): Device[] {
  const before = ledger.devicesBefore
  if (!before) return []
  return devices.filter(d => !before.has(d.clientId) && ledger.fingerprints.has(d.certificate.fingerprint))
}

export type UndoStep =
  | {kind: 'rollout', id: string}
  | {kind: 'deny-list', id: string}
  | {kind: 'device', id: string, revoke: boolean}

/**
 * The undo, in the order it must run: rollouts first (their deployments go, and no rollout can
 * pick up a device the undo is still changing), then the deny-list entries, then the devices.
 * A device already revoked (the deny-list did that, or a step of the suites) is only labelled.
 */
export function undoPlan(ledger: RunLedger, devicesNow: readonly Device[]): UndoStep[] {
  return [
    ...[...ledger.rollouts].reverse().map((id): UndoStep => ({kind: 'rollout', id})),
    ...ledger.denied.map((id): UndoStep => ({kind: 'deny-list', id})),
    ...ownDevices(ledger, devicesNow).map((d): UndoStep => ({kind: 'device', id: d.clientId, revoke: d.enrollment !== 'revoked'})),
  ]
}

export interface CleanupItem {
  kind: 'rollout' | 'deny-list' | 'device' | 'app' | 'preregistration'
  id: string
  outcome: 'removed' | 'revoked' | 'left' | 'failed'
  detail?: string
}

export interface CleanupReport {
  runId: string
  items: CleanupItem[]
  /** True when everything the run could undo was undone. */
  ok: boolean
}

/** What stays on the WFM because its operator API offers no way to remove it. */
export function leftBehind(ledger: RunLedger): CleanupItem[] {
  return [
    ...ledger.apps.map((a): CleanupItem => ({
      kind: 'app', id: `${a.appId}@${a.version}`, outcome: 'left',
      detail: 'the operator API cannot unpublish an app; no deployment of it is left, and the next run reuses it',
    })),
    ...ledger.preregistered.map((fp): CleanupItem => ({
      kind: 'preregistration', id: fp, outcome: 'left',
      detail: 'the operator API cannot remove a pre-registration; the device that used it is revoked',
    })),
  ]
}
