/** Registries the catalog is filled from, as the operator API shows them, and what a sync found. */
import type {RegistryKind} from '../store/registries-repo.ts'

export type {RegistryKind}

export type SyncVersionStatus = 'added' | 'unchanged' | 'conflict' | 'invalid'

export interface SyncVersionResult {
  /** Null when the package could not be read far enough to know its id. */
  appId: string | null
  version: string | null
  status: SyncVersionStatus
  error?: string
  /** Where the package was found: `<repository>:<tag>` (OCI) or its folder in the repository (git, `.` for the root). */
  location: string
}

export interface SyncResult {
  registry: string
  startedAt: string
  finishedAt: string
  /** Distinct application ids among the packages read. */
  appsFound: number
  versionsAdded: number
  versions: SyncVersionResult[]
  /** Problems that stopped part of the sync (unreachable registry, refused credentials, failed clone). */
  errors: string[]
}

export interface RegistryView {
  name: string
  kind: RegistryKind
  url: string
  ref?: string
  repositories: string[]
  /** Credentials are kept on the server and never returned. */
  hasCredentials: boolean
  credentialsKind?: 'basic' | 'bearer'
  intervalSeconds: number
  createdAt: string
  lastSyncAt: string | null
  lastSync: SyncResult | null
}

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
