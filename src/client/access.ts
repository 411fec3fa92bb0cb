import type {OperatorClient} from './operator-client.ts'
import type {AuditEntry, AuditVerification, CreatedToken, Principal, Role, TokenInfo} from '../operator-contract/views.ts'

export interface TokenRequest {
  name: string
  role: Role
  scope?: string
  expires?: string
}

export const createToken = (client: OperatorClient, request: TokenRequest) =>
  client.call<CreatedToken>('POST', '/tokens', {body: request, inputHint: 'roles: admin, operator, viewer, auditor; --expires like 30d or 12h; --scope is a label selector'})

export const listTokens = async (client: OperatorClient) => (await client.call<{tokens: TokenInfo[]}>('GET', '/tokens')).tokens

export const revokeToken = (client: OperatorClient, name: string) => client.call<TokenInfo>('POST', `/tokens/${encodeURIComponent(name)}/revoke`)

export const whoami = (client: OperatorClient) => client.call<Principal>('GET', '/whoami')

export interface AuditQuery {
  since?: string
  actor?: string
  target?: string
}

export const listAudit = async (client: OperatorClient, query: AuditQuery = {}) =>
  (await client.call<{entries: AuditEntry[]}>('GET', '/audit', {query: {...query}})).entries

export const verifyAudit = (client: OperatorClient) => client.call<AuditVerification>('GET', '/audit/verify')
