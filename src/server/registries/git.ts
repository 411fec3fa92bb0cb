/**
 * Git registries: a shallow clone with the system `git` into a temporary folder, then every
 * folder holding an ApplicationDescription YAML at its root is one package.
 */
import {mkdtemp, readdir, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse} from 'yaml'
import type {StoredCredentials} from '../store/registries-repo.ts'
import {basicHeader} from '../../oci/auth.ts'
import {OperationError} from '../../util/errors.ts'

const CLONE_TIMEOUT_MS = 120_000
const MAX_DEPTH = 8
const MAX_FOLDERS = 5000

/** git is missing or a clone failed: the sync of that registry failed. */
export class GitError extends OperationError {
  constructor(message: string, cause?: unknown) {
    super(message, {code: 'git_failed', cause})
  }
}

/**
 * `git clone --depth 1 [--branch ref]`. Never prompts; credentials travel as an HTTP header set
 * through the environment (GIT_CONFIG_*), so they appear neither in the URL, nor in the process
 * list, nor in git's messages.
 */
export async function cloneShallow(url: string, ref: string | null, credentials: StoredCredentials | null, into: string): Promise<void> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? tmpdir(),
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '/bin/false',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_COUNT: '0',
  }
  if (credentials) {
    const header = credentials.kind === 'basic' ? basicHeader(credentials.username, credentials.password) : `Bearer ${credentials.token}`
    Object.assign(env, {GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: ${header}`})
  }
  const argv = ['git', '-c', 'core.hooksPath=/dev/null', 'clone', '--quiet', '--depth', '1', '--single-branch', '--no-tags',
    ...(ref ? ['--branch', ref] : []), '--', url, into]
  let proc: Bun.Subprocess<"ignore", "ignore", "pipe">
  try {
    proc = Bun.spawn(argv, {stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', env})
  } catch (e) {
    throw new GitError(`cannot run git: ${(e as Error).message} — install git on the server`, e)
  }
  const timer = setTimeout(() => proc.kill('SIGKILL'), CLONE_TIMEOUT_MS)
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
  clearTimeout(timer)
  if (code !== 0) {
    const reason = stderr.split('\n').map(l => l.replace(/^(fatal|error):\s*/, '').trim()).filter(Boolean).slice(-2).join('; ')
    throw new GitError(`git clone of ${url}${ref ? ` (${ref})` : ''} failed: ${reason || `exit ${code}`}`)
  }
}

/** True when the folder holds a YAML file of kind ApplicationDescription at its root. */
async function holdsDescription(dir: string, names: string[]): Promise<boolean> {
  for (const name of names) {
    if (!/\.ya?ml$/i.test(name) || name.startsWith('.')) continue
    try {
      const doc: unknown = parse(await readFile(join(dir, name), 'utf8'))
      if (typeof doc === 'object' && doc !== null && (doc as Record<string, unknown>).kind === 'ApplicationDescription') return true
    } catch { /* not YAML: not a description */ }
  }
  return false
}

/** Package folders below `root`, relative (`.` for the root itself), sorted; a package's own subfolders are not searched. */
export async function findPackageFolders(root: string): Promise<string[]> {
  const found: string[] = []
  let visited = 0
  const walk = async (relative: string, depth: number): Promise<void> => {
    if (++visited > MAX_FOLDERS) return
    const dir = relative === '.' ? root : join(root, relative)
    const entries = await readdir(dir, {withFileTypes: true})
    const files = entries.filter(e => e.isFile()).map(e => e.name)
    if (await holdsDescription(dir, files)) { found.push(relative); return }
    if (depth >= MAX_DEPTH) return
    for (const e of entries.filter(e => e.isDirectory() && !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      await walk(relative === '.' ? e.name : `${relative}/${e.name}`, depth + 1)
    }
  }
  await walk('.', 0)
  return found.sort()
}

/** Runs `work` on a fresh shallow clone and removes the clone afterwards, whatever happens. */
export async function withClone<T>(url: string, ref: string | null, credentials: StoredCredentials | null, work: (dir: string) => Promise<T>): Promise<T> {
  const parent = await mkdtemp(join(tmpdir(), 'margo-git-'))
  try {
    const dir = join(parent, 'repo')
    await cloneShallow(url, ref, credentials, dir)
    return await work(dir)
  } finally {
    await rm(parent, {recursive: true, force: true})
  }
}
