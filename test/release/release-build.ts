import {existsSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'

const ROOT = join(import.meta.dir, '../..')
export const RELEASE_DIR = join(ROOT, 'dist/release')

function newest(dir: string): number {
  let t = 0
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const p = join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

let built: {seconds: number} | undefined

/**
 * dist/release, ready to test: with MARGO_RELEASE_TESTS=1 it is (re)built by scripts/release.ts
 * when a source is newer than it; otherwise it is used as found. Undefined, with the reason,
 * when there is nothing to test.
 */
export function ensureRelease(): {dir: string, builtInSeconds?: number} | {skip: string} {
  const sums = join(RELEASE_DIR, 'SHA256SUMS')
  if (process.env.MARGO_RELEASE_TESTS === '1') {
    const stale = !existsSync(sums) || statSync(sums).mtimeMs < Math.max(newest(join(ROOT, 'src')), newest(join(ROOT, 'commands')), newest(join(ROOT, 'deploy')), statSync(join(ROOT, 'package.json')).mtimeMs)
    if (stale) {
      const started = performance.now()
      const r = Bun.spawnSync([process.execPath, 'run', join(ROOT, 'scripts/release.ts')], {cwd: ROOT, stdout: 'pipe', stderr: 'pipe'})
      if (r.exitCode !== 0) throw new Error(`scripts/release.ts failed:\n${r.stderr.toString()}`)
      built = {seconds: (performance.now() - started) / 1000}
      process.stderr.write(r.stderr.toString())
    }
    return {dir: RELEASE_DIR, builtInSeconds: built?.seconds}
  }
  if (existsSync(sums)) return {dir: RELEASE_DIR}
  return {skip: 'no dist/release: set MARGO_RELEASE_TESTS=1 to build it (bun run release)'}
}
