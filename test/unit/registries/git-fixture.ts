/** Local git repositories of application packages, made with the system git, for registry tests. */
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

export const hasGit = (() => {
  try { return Bun.spawnSync(['git', '--version']).exitCode === 0 } catch { return false }
})()

function git(cwd: string, ...args: string[]): string {
  const r = Bun.spawnSync(['git', '-c', 'user.name=margo test', '-c', 'user.email=test@margo.invalid', '-c', 'commit.gpgsign=false', ...args], {
    cwd, stdout: 'pipe', stderr: 'pipe', env: {PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, GIT_CONFIG_NOSYSTEM: '1'},
  })
  if (r.exitCode !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr.toString()}`)
  return r.stdout.toString()
}

/** A bare repository (the registry's URL) and a work tree that commits and pushes to it. */
export function createGitRegistry() {
  const root = mkdtempSync(join(tmpdir(), 'margo-git-fixture-'))
  const bare = join(root, 'apps.git')
  const work = join(root, 'work')
  mkdirSync(work)
  git(root, 'init', '--quiet', '--bare', '-b', 'main', bare)
  git(work, 'init', '--quiet', '-b', 'main')
  git(work, 'remote', 'add', 'origin', bare)
  return {
    bare,
    url: `file://${bare}`,
    /** Writes files (path → text; null deletes), commits them on `branch` and pushes. */
    commit(files: Record<string, string | null>, branch = 'main') {
      const current = git(work, 'symbolic-ref', '--short', 'HEAD').trim()
      if (current !== branch) {
        const exists = git(work, 'branch', '--list', branch).trim() !== ''
        git(work, 'checkout', '--quiet', ...(exists ? [branch] : ['-b', branch]))
      }
      for (const [path, text] of Object.entries(files)) {
        const full = join(work, path)
        if (text === null) rmSync(full, {force: true})
        else { mkdirSync(dirname(full), {recursive: true}); writeFileSync(full, text) }
      }
      git(work, 'add', '-A')
      git(work, 'commit', '--quiet', '--allow-empty', '-m', 'update')
      git(work, 'push', '--quiet', 'origin', branch)
    },
    remove() { rmSync(root, {recursive: true, force: true}) },
  }
}
