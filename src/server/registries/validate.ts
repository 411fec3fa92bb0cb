/** `POST /registries` bodies checked field by field (pure); every problem is reported with its path. */
import {isLoopbackHost, REPOSITORY_PATTERN} from '../../oci/reference.ts'
import type {RegistryInput} from './types.ts'

export const DEFAULT_INTERVAL_SECONDS = 3600
export const MIN_INTERVAL_SECONDS = 10
export const MAX_INTERVAL_SECONDS = 7 * 24 * 3600
export const REGISTRY_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/
/** Branch or tag names; never starting with `-`, so a ref cannot become a git option. */
const GIT_REF = /^[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}$/
const FIELDS = ['name', 'kind', 'url', 'ref', 'repositories', 'username', 'password', 'token', 'intervalSeconds']

export interface FieldProblem {
  path: string
  message: string
}

export type InputResult = {ok: true, value: RegistryInput} | {ok: false, errors: FieldProblem[]}

/** An OCI registry URL: `host[:port]` or `https://host[:port]`; `http://` only for this machine. */
export function normaliseOciUrl(raw: string): string | FieldProblem {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`
  let u: URL
  try { u = new URL(withScheme) } catch { return {path: 'url', message: `"${raw}" is not a registry address — write https://host[:port] or host[:port]`} }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return {path: 'url', message: 'an OCI registry is reached over https:// (or http:// on this machine)'}
  if (u.username || u.password) return {path: 'url', message: 'must not carry credentials — use username and password, or token'}
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) return {path: 'url', message: `plain http is only allowed for a registry on this machine, not ${u.host} — use https://`}
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) return {path: 'url', message: 'must be the registry root (no path); name repositories in "repositories"'}
  return u.origin
}

/** A git remote: `https://…`, `http://` on this machine, `file://…` or an absolute path. */
export function normaliseGitUrl(raw: string): string | FieldProblem {
  if (raw.startsWith('/')) return `file://${raw}`
  let u: URL
  try { u = new URL(raw) } catch { return {path: 'url', message: `"${raw}" is not a git URL — write https://host/org/repo.git, file:///path or an absolute path`} }
  if (u.username || u.password) return {path: 'url', message: 'must not carry credentials — use username and password, or token'}
  if (u.protocol === 'file:') return u.toString()
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) return {path: 'url', message: `plain http is only allowed for a repository on this machine, not ${u.host} — use https://`}
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return {path: 'url', message: `${u.protocol} remotes are not supported; use https:// (with username/password or token) or file://`}
  return u.toString()
}

export function parseRegistryInput(body: Record<string, unknown>): InputResult {
  const errors: FieldProblem[] = []
  const err = (path: string, message: string) => { errors.push({path, message}) }
  for (const key of Object.keys(body)) if (!FIELDS.includes(key)) err(key, `unknown field; allowed: ${FIELDS.join(', ')}`)

  const str = (key: string): string | undefined => {
    const v = body[key]
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'string' || v === '') { err(key, 'must be a non-empty string'); return undefined }
    return v
  }

  const name = str('name')
  if (name === undefined && body.name === undefined) err('name', 'is required')
  else if (name !== undefined && !REGISTRY_NAME.test(name)) err('name', `"${name}" must be 1 to 63 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit`)

  const kind = body.kind
  if (kind === undefined) err('kind', 'is required: oci or git')
  else if (kind !== 'oci' && kind !== 'git') err('kind', `${JSON.stringify(kind)} is not a registry kind; use oci or git`)

  const rawUrl = str('url')
  let url: string | undefined
  if (rawUrl === undefined && body.url === undefined) err('url', 'is required')
  else if (rawUrl !== undefined && (kind === 'oci' || kind === 'git')) {
    const n = kind === 'oci' ? normaliseOciUrl(rawUrl) : normaliseGitUrl(rawUrl)
    if (typeof n === 'string') url = n
    else errors.push(n)
  }

  const ref = str('ref')
  if (ref !== undefined) {
    if (kind === 'oci') err('ref', 'is for git registries (a branch or tag); an OCI registry reads every tag')
    else if (!GIT_REF.test(ref) || ref.includes('..')) err('ref', `"${ref}" is not a branch or tag name`)
  }

  const repositories: string[] = []
  if (body.repositories !== undefined && body.repositories !== null) {
    if (!Array.isArray(body.repositories)) err('repositories', 'must be a list of repository names')
    else if (kind === 'git' && body.repositories.length > 0) err('repositories', 'is for OCI registries; a git registry reads every package folder of the repository')
    else {
      body.repositories.forEach((r, i) => {
        if (typeof r !== 'string' || !REPOSITORY_PATTERN.test(r)) err(`repositories[${i}]`, `${JSON.stringify(r)} is not an OCI repository name (lowercase, e.g. margo/hello-world)`)
        else if (repositories.includes(r)) err(`repositories[${i}]`, `"${r}" is listed twice`)
        else repositories.push(r)
      })
    }
  }

  const username = str('username')
  const password = str('password')
  const token = str('token')
  let credentials: RegistryInput['credentials']
  if (token !== undefined && (username !== undefined || password !== undefined)) err('token', 'give either a token or a username and password, not both')
  else if ((username === undefined) !== (password === undefined)) err(username === undefined ? 'username' : 'password', 'username and password go together')
  else if (token !== undefined) credentials = {kind: 'bearer', token}
  else if (username !== undefined && password !== undefined) {
    if (username.includes(':')) err('username', 'must not contain ":"')
    else credentials = {kind: 'basic', username, password}
  }
  if (credentials && url?.startsWith('file:')) err('url', 'credentials are only used with https:// or http:// remotes')

  let intervalSeconds = DEFAULT_INTERVAL_SECONDS
  const iv = body.intervalSeconds
  if (iv !== undefined && iv !== null) {
    if (typeof iv !== 'number' || !Number.isInteger(iv) || iv < MIN_INTERVAL_SECONDS || iv > MAX_INTERVAL_SECONDS) {
      err('intervalSeconds', `must be a whole number of seconds from ${MIN_INTERVAL_SECONDS} to ${MAX_INTERVAL_SECONDS}, got ${JSON.stringify(iv)}`)
    } else intervalSeconds = iv
  }

  if (errors.length > 0 || name === undefined || url === undefined || (kind !== 'oci' && kind !== 'git')) return {ok: false, errors}
  return {ok: true, value: {name, kind, url, ...(ref !== undefined ? {ref} : {}), repositories, ...(credentials ? {credentials} : {}), intervalSeconds}}
}
