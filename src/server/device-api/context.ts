import type {KeyObject} from 'node:crypto'
import type {Store} from '../store/store.ts'
import type {EventBus} from '../events.ts'
import type {Logger} from '../../util/log.ts'
import {STATUS_REPORT_MAX_BYTES, STATUS_REPORT_RATE, STATUS_TIMELINE_RETENTION} from '../../margo/limits.ts'
import type {Rate} from './rate-limit.ts'

export type EnrollmentPolicy = 'auto' | 'approve' | 'allowlist'

export interface DeviceApiConfig {
  /** Prefix in front of `/api/v1` (e.g. `/v1alpha2/margo`); '' for none. Never ends in '/'. */
  basePath: string
  /** The URL devices use for the API root (the base path), when a proxy sits in front; else the request's own. */
  externalUrl?: string
  enrollment: EnrollmentPolicy
  /** RFC 9421 `created` window. */
  signatureMaxAgeSeconds: number
  signatureSkewSeconds: number
  /** Largest request body accepted; larger ones get 413. */
  maxBodyBytes: number
  /** Largest status report accepted (413 above it); below `maxBodyBytes`. */
  maxStatusReportBytes: number
  /** Rows kept per deployment in the status timeline; older ones are deleted as reports arrive. */
  statusRetention: number
  /** Status reports per client: a burst, then a sustained rate; beyond it 429 with Retry-After. */
  statusRate: Rate
}

export interface DeviceApiContext {
  store: Store
  config: DeviceApiConfig
  events: EventBus
  log: Logger
  /** The root CA devices must trust, as published by `GET /api/v1/onboarding/certificate`. */
  caCertificatePem: string
  now: () => Date
  /** Parsed public keys by certificate fingerprint: parsing a certificate per request is wasted work. */
  keyCache: Map<string, KeyObject>
  /** Last-seen times gathered in memory and flushed in batches, so polling never writes to disk. */
  lastSeen: Map<string, string>
  /** Counts signature failures by reason, when the server exposes metrics. */
  metrics?: {signatureFailures: {inc(labels: Record<string, string>): void}}
}

export const DEFAULT_DEVICE_API_CONFIG: DeviceApiConfig = {
  basePath: '',
  // A device is trusted only when someone vouched for it: an operator's approval or a join token.
  enrollment: 'approve',
  signatureMaxAgeSeconds: 300,
  signatureSkewSeconds: 60,
  maxBodyBytes: 1024 * 1024,
  maxStatusReportBytes: STATUS_REPORT_MAX_BYTES,
  statusRetention: STATUS_TIMELINE_RETENTION,
  statusRate: STATUS_REPORT_RATE,
}
