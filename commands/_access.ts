import type {Command} from '@oclif/core'
import AuditExport from './audit/export.ts'
import AuditList from './audit/list.ts'
import AuditVerify from './audit/verify.ts'
import TokenCreate from './token/create.ts'
import TokenList from './token/list.ts'
import TokenRevoke from './token/revoke.ts'

/** Tokens and the audit log, merged into commands/index.ts. */
export const ACCESS_COMMANDS: Record<string, typeof Command> = {
  'token:create': TokenCreate,
  'token:list': TokenList,
  'token:revoke': TokenRevoke,
  'audit:list': AuditList,
  'audit:verify': AuditVerify,
  'audit:export': AuditExport,
}
