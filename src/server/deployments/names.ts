/**
 * Kubernetes names for a deployment. Both `metadata.name` and `metadata.namespace` are DNS
 * labels (RFC 1123: at most 63 lowercase letters, digits and dashes, starting and ending with a
 * letter or digit). Application ids may be up to 200 characters, so long ids are shortened and
 * given a hash suffix that keeps distinct ids apart.
 */
import {createHash} from 'node:crypto'

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
export const DNS_LABEL_MAX = 63

export function isDnsLabel(value: string): boolean {
  return value.length <= DNS_LABEL_MAX && DNS_LABEL.test(value)
}

function trimDashes(s: string): string {
  return s.replace(/^-+/, '').replace(/-+$/, '')
}

function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8)
}

/** `<prefix>-<suffix>` cut to a DNS label; the prefix gives way, the suffix never does. */
function withSuffix(prefix: string, suffix: string): string {
  const room = DNS_LABEL_MAX - suffix.length - 1
  const head = trimDashes(trimDashes(prefix).slice(0, room))
  return head === '' ? `app-${suffix}` : `${head}-${suffix}`
}

/** The namespace for an application: its id when that is a DNS label, else a shortened form. */
export function defaultNamespace(applicationId: string): string {
  if (isDnsLabel(applicationId)) return applicationId
  const trimmed = trimDashes(applicationId)
  if (trimmed !== '' && isDnsLabel(trimmed)) return trimmed
  return withSuffix(applicationId, shortHash(applicationId))
}

/** `<applicationId>-<first 8 characters of the deployment id>`, shortened to a DNS label. */
export function defaultDeploymentName(applicationId: string, deploymentId: string): string {
  return withSuffix(applicationId, deploymentId.slice(0, 8).toLowerCase())
}
