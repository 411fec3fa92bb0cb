/**
 * OCI references as the operator writes them: `<registry>/<repository>:<tag>`, e.g.
 * `127.0.0.1:5000/margo/hello-world:1.0`. Grammar from the OCI distribution specification.
 */

export interface OciReference {
  /** host[:port], as written. */
  registry: string
  repository: string
  tag: string
}

/** Repository names: lowercase path components separated by `/`, each with `.`, `_`, `__` or `-` joins. */
export const REPOSITORY_PATTERN = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/
const HOST_PATTERN = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::[0-9]{1,5})?$/

export type ReferenceResult = {ok: true, value: OciReference} | {ok: false, message: string}

export function parseReference(input: string): ReferenceResult {
  const hint = 'write it as <registry>/<repository>:<tag>, e.g. 127.0.0.1:5000/margo/hello-world:1.0'
  if (/^[a-z]+:\/\//i.test(input)) return {ok: false, message: `"${input}" has a URL scheme; ${hint} (use --plain-http for an http registry on this machine)`}
  const slash = input.indexOf('/')
  if (slash <= 0) return {ok: false, message: `"${input}" names no registry; ${hint}`}
  const registry = input.slice(0, slash)
  const rest = input.slice(slash + 1)
  if (!HOST_PATTERN.test(registry)) return {ok: false, message: `"${registry}" is not a registry host[:port]; ${hint}`}
  if (rest.includes('@')) return {ok: false, message: `"${input}" uses a digest; push needs a tag equal to metadata.version`}
  const colon = rest.lastIndexOf(':')
  if (colon <= 0) return {ok: false, message: `"${input}" has no tag; the tag must equal the package's metadata.version — ${hint}`}
  const repository = rest.slice(0, colon)
  const tag = rest.slice(colon + 1)
  if (!REPOSITORY_PATTERN.test(repository)) return {ok: false, message: `"${repository}" is not a valid repository name (lowercase letters, digits, ".", "_", "-" and "/")`}
  if (!TAG_PATTERN.test(tag)) return {ok: false, message: `"${tag}" is not a valid tag (letters, digits, ".", "_", "-"; at most 128; not starting with "." or "-")`}
  return {ok: true, value: {registry, repository, tag}}
}

/** The host part of `host[:port]` (brackets of an IPv6 literal removed). */
export function hostOf(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'))
  const colon = registry.lastIndexOf(':')
  return colon === -1 ? registry : registry.slice(0, colon)
}

/** True for hosts that never leave this machine; only they may be reached over plain http. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true
  return /^127(?:\.\d{1,3}){3}$/.test(h)
}
