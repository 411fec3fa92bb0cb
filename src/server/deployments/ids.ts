import {randomUUID} from 'node:crypto'

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

/** A new deployment id: a random (version 4) UUID, lowercase (WFM-47). */
export function newDeploymentId(): string {
  return randomUUID()
}

/** The pattern `metadata.annotations.id` must match (spec §3.1). */
export function isDeploymentId(value: string): boolean {
  return UUID.test(value)
}
