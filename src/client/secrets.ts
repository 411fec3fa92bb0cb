import type {OperatorClient} from './operator-client.ts'
import type {SecretChange, SecretInfo} from '../operator-contract/views.ts'

/** Creates or rotates a secret; the value goes in the body, never in a URL or a log line. */
export const setSecret = (client: OperatorClient, name: string, value: string) =>
  client.call<SecretChange>('PUT', `/secrets/${encodeURIComponent(name)}`, {body: {value}, inputHint: 'secret names are 1 to 63 letters, digits, ".", "_" or "-"'})

export const listSecrets = async (client: OperatorClient) => (await client.call<{secrets: SecretInfo[]}>('GET', '/secrets')).secrets

export const deleteSecret = (client: OperatorClient, name: string) => client.call<{name: string}>('DELETE', `/secrets/${encodeURIComponent(name)}`)

/**
 * The value `margo secret set` sends: a file's content as it is, or standard input without the one
 * trailing newline `echo` and here-strings add.
 */
export function secretValueFrom(input: {file?: Uint8Array, stdin?: Uint8Array}): string {
  if (input.file) return new TextDecoder('utf-8', {fatal: true}).decode(input.file)
  const text = new TextDecoder('utf-8', {fatal: true}).decode(input.stdin ?? new Uint8Array())
  return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text
}
