import {Flags} from '@oclif/core'

const CONNECTION = 'CONNECTION'
const OUTPUT = 'OUTPUT'

/** Where the operator API is and how to authenticate; resolved by resolveConnection. */
export const connectionFlags = {
  server: Flags.string({
    summary: 'Fleet manager URL (host:port, https://host:port or its /operator/v1 URL). Env: MARGO_SERVER.',
    helpGroup: CONNECTION,
  }),
  token: Flags.string({summary: 'Operator bearer token. Env: MARGO_TOKEN.', helpGroup: CONNECTION}),
  'ca-file': Flags.string({
    summary: "PEM file of the CA that signs the server's certificate. Env: MARGO_CA_FILE.",
    helpGroup: CONNECTION,
  }),
  'data-dir': Flags.string({
    summary: 'Data dir of a margo serve on this machine; its server.json, token and CA are used. Env: MARGO_DATA_DIR.',
    helpGroup: CONNECTION,
  }),
}

export const outputFlags = {
  json: Flags.boolean({summary: 'Print one JSON document on stdout.', helpGroup: OUTPUT}),
  verbose: Flags.boolean({summary: 'Add the cause chain to error messages.', helpGroup: OUTPUT}),
}

export interface GlobalFlags {
  server?: string
  token?: string
  'ca-file'?: string
  'data-dir'?: string
  json: boolean
  verbose: boolean
}
