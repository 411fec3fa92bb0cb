import {existsSync, readFileSync} from 'node:fs'
import type {OperatorClient} from './operator-client.ts'
import type {DenyEntry, DenyResult} from '../operator-contract/views.ts'

export const listDenied = async (client: OperatorClient) => (await client.call<{entries: DenyEntry[]}>('GET', '/denylist')).entries

/**
 * Deny a certificate (a PEM or DER file: its fingerprint is denied and any device using it is
 * revoked) or a value (a `sha256:` fingerprint, or any literal string refused at onboarding).
 */
export function deny(client: OperatorClient, target: string): Promise<DenyResult> {
  const isFile = existsSync(target)
  const body = isFile ? {certificate: readFileSync(target, 'utf8')} : {value: target}
  return client.call('POST', '/denylist', {body})
}

export const undeny = (client: OperatorClient, value: string) => client.call<{value: string}>('DELETE', `/denylist/${encodeURIComponent(value)}`)
