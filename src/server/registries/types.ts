/**
 * Registries the catalog is filled from. How the operator API shows them and what a sync found
 * are shapes of the operator contract; the service builds exactly those.
 */
import type {RegistryKind} from '../store/registries-repo.ts'

export type {RegistryKind}
export type {Registry as RegistryView, SyncResult, SyncVersionResult, SyncVersionStatus} from '../../operator-contract/views.ts'

/** A validated `POST /registries` body. */
export interface RegistryInput {
  name: string
  kind: RegistryKind
  url: string
  ref?: string
  repositories: string[]
  credentials?: {kind: 'basic', username: string, password: string} | {kind: 'bearer', token: string}
  intervalSeconds: number
}
