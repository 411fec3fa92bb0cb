/** `margo app push`: one package folder (or .tar.gz) to an OCI registry, checked before anything is sent. */
import {readFileSync, statSync} from 'node:fs'
import {UsageError, ValidationError} from '../util/errors.ts'
import type {RegistryCredentials} from '../oci/auth.ts'
import {OciClient, registryUrl} from '../oci/client.ts'
import {pushPackage, type PushResult} from '../oci/package.ts'
import {hostOf, isLoopbackHost, parseReference} from '../oci/reference.ts'
import {readPackageFromDirectory, readPackageFromTarGz} from '../margo/package/package.ts'

export interface PushOptions {
  /** Package folder or package .tar.gz. */
  path: string
  /** `<registry>/<repository>:<tag>`; the tag must equal metadata.version. */
  reference: string
  username?: string
  password?: string
  token?: string
  /** Plain http, allowed only for a registry on this machine. */
  plainHttp?: boolean
  caFile?: string
  fetch?: typeof fetch
}

/** Registry credentials from flags: basic, bearer or none; half a pair is a usage error. */
export function credentialsFrom(o: {username?: string, password?: string, token?: string}): RegistryCredentials | undefined {
  if (o.token !== undefined && (o.username !== undefined || o.password !== undefined)) {
    throw new UsageError('pass either --token or --username/--password, not both')
  }
  if (o.token !== undefined) {
    if (o.token === '') throw new UsageError('--token is empty')
    return {kind: 'bearer', token: o.token}
  }
  if ((o.username === undefined) !== (o.password === undefined)) throw new UsageError('--username and --password go together')
  if (o.username !== undefined) return {kind: 'basic', username: o.username, password: o.password!}
  return undefined
}

export async function pushFromPath(options: PushOptions): Promise<PushResult> {
  const ref = parseReference(options.reference)
  if (!ref.ok) throw new UsageError(ref.message)
  const {registry, repository, tag} = ref.value
  if (options.plainHttp && !isLoopbackHost(hostOf(registry))) {
    throw new UsageError(`--plain-http is only allowed for a registry on this machine (127.0.0.1, ::1, localhost), not ${registry} — use HTTPS, with --ca-file for a private CA`)
  }
  const credentials = credentialsFrom(options)
  let ca: string | undefined
  if (options.caFile) {
    try { ca = readFileSync(options.caFile, 'utf8') } catch (e) {
      throw new UsageError(`cannot read --ca-file ${options.caFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
    }
  }

  let isDirectory: boolean
  try { isDirectory = statSync(options.path).isDirectory() } catch (e) {
    throw new UsageError(`cannot read ${options.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} — pass a package folder or a package .tar.gz`)
  }
  const pkg = isDirectory ? await readPackageFromDirectory(options.path) : await readPackageFromTarGz(new Uint8Array(readFileSync(options.path)))
  if (!pkg.ok) {
    throw new ValidationError(`package ${options.path} is invalid — fix these (see: margo app lint ${options.path}) and push again`,
      pkg.errors.map(e => ({path: e.field, message: e.message})), {code: 'invalid_package'})
  }
  const version = pkg.description.metadata.version
  if (tag !== version) throw new UsageError(`the tag "${tag}" differs from metadata.version "${version}" — push it as ${registry}/${repository}:${version}`)

  // Registry failures (OciError) carry their own exit code.
  const client = new OciClient({
    url: registryUrl(registry, options.plainHttp), ...(ca ? {ca} : {}), ...(credentials ? {credentials} : {}),
    ...(options.fetch ? {fetch: options.fetch} : {}),
  })
  return await pushPackage(client, repository, tag, pkg)
}
