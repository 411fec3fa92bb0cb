import {resolve} from 'node:path'
import {stringify} from 'yaml'
import {userConfigPath} from '../config/paths.ts'
import {writeSecretFile} from '../util/fs.ts'
import {type Connection, normalizeServerUrl, readCaFile} from './connection.ts'
import {OperatorClient, type OperatorClientOptions} from './operator-client.ts'

export interface LoginOptions {
  server: string
  token: string
  caFile?: string
  /** Defaults to userConfigPath(). */
  configPath?: string
  /** Check the server and token before saving (default true). */
  verify?: boolean
  client?: OperatorClientOptions
}

export interface LoginResult {
  configPath: string
  server: string
  caFile?: string
  /** Server version, when verified. */
  serverVersion?: string
  verified: boolean
}

/** Stores server, token and CA for later commands, after proving they work. */
export async function login(options: LoginOptions): Promise<LoginResult> {
  const server = normalizeServerUrl(options.server)
  const caFile = options.caFile ? resolve(options.caFile) : undefined
  const configPath = options.configPath ?? userConfigPath()
  const connection: Connection = {
    baseUrl: server,
    token: options.token,
    ...(caFile ? {ca: readCaFile(caFile, '--ca-file')} : {}),
    origin: {server: '--server', token: '--token', ...(caFile ? {ca: caFile} : {})},
  }

  let serverVersion: string | undefined
  const verify = options.verify ?? true
  if (verify) {
    const client = new OperatorClient(connection, options.client)
    // /health needs a valid token of any role (an auditor's too), so a wrong one fails here rather than at the next command.
    serverVersion = (await client.health()).version
  }

  const doc = {server, token: options.token, ...(caFile ? {caFile} : {})}
  writeSecretFile(configPath, stringify(doc))
  return {configPath, server, ...(caFile ? {caFile} : {}), ...(serverVersion ? {serverVersion} : {}), verified: verify}
}
