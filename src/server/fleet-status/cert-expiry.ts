/**
 * Device certificates close to expiry. A device whose certificate expires is refused from then
 * on (403) until it onboards again with a new one, so operators are told ahead: `margo status`
 * lists the devices within the warning window, and the server announces each device once as it
 * enters it (checked periodically against an injectable clock).
 */
import type {ExpiringCertificate} from '../../operator-contract/views.ts'
import type {EventBus} from '../events.ts'
import type {ClientRecord, Store} from '../store/store.ts'
import type {Logger} from '../../util/log.ts'

export const DEFAULT_CERT_EXPIRY_WARNING_MS = 30 * 86_400_000
/** How often the watcher looks: certificates expire in days, an hour is early enough. */
export const CERT_EXPIRY_CHECK_MS = 3_600_000

/** Devices of the fleet (not tombstones or revoked ones) whose certificate expires within `windowMs` of `now`, soonest first; expired ones included. */
export function expiringCertificates(clients: readonly Pick<ClientRecord, 'clientId' | 'notAfter' | 'enrollment' | 'tombstone' | 'labels'>[], now: Date, windowMs: number): ExpiringCertificate[] {
  const limit = now.getTime() + windowMs
  return clients
    .filter(c => !c.tombstone && c.enrollment !== 'revoked' && Date.parse(c.notAfter) <= limit)
    .map(c => {
      const left = Date.parse(c.notAfter) - now.getTime()
      return {clientId: c.clientId, notAfter: c.notAfter, expired: left <= 0, daysLeft: Math.max(0, Math.floor(left / 86_400_000)), labels: c.labels}
    })
    .sort((a, b) => a.notAfter.localeCompare(b.notAfter) || a.clientId.localeCompare(b.clientId))
}

export interface CertificateWatch {
  /** One check now: announces devices that entered the window since the last one. Returns them. */
  check(): ExpiringCertificate[]
  stop(): void
}

/**
 * Emits `device.certificate_expiring` once per device as it enters the window; a device that
 * leaves it (a new certificate after onboarding again) is announced again should it come back.
 * What was announced is kept in memory: after a restart, devices in the window are announced once more.
 */
export function startCertificateWatch(deps: {store: Store, events: Pick<EventBus, 'emit'>, log: Logger, now: () => Date, windowMs?: number, intervalMs?: number}): CertificateWatch {
  const announced = new Set<string>()
  const check = () => {
    const expiring = expiringCertificates(deps.store.listClients(), deps.now(), deps.windowMs ?? DEFAULT_CERT_EXPIRY_WARNING_MS)
    const entered = expiring.filter(e => !announced.has(e.clientId))
    const inWindow = new Set(expiring.map(e => e.clientId))
    for (const id of announced) if (!inWindow.has(id)) announced.delete(id)
    for (const e of entered) {
      announced.add(e.clientId)
      deps.log.warn('device.certificate_expiring', {clientId: e.clientId, notAfter: e.notAfter, daysLeft: e.daysLeft})
      deps.events.emit({type: 'device.certificate_expiring', clientId: e.clientId, notAfter: e.notAfter})
    }
    return entered
  }
  const timer = deps.intervalMs === 0 ? null : setInterval(() => {
    try { check() } catch (err) { deps.log.error('device.certificate_check_failed', {error: err instanceof Error ? err.message : String(err)}) }
  }, deps.intervalMs ?? CERT_EXPIRY_CHECK_MS)
  timer?.unref?.()
  return {check, stop: () => { if (timer) clearInterval(timer) }}
}
