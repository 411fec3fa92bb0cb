// Cross-compiles the single executable for the Linux devices the agent runs on, into
// dist/release/margo-<version>-<target>, and writes SHA256SUMS (sha256sum -c format) beside them.
//   bun run release                                 all targets
//   bun run release --targets linux-arm64,linux-x64  a subset
//   bun run release --out DIR                       another directory
// Bun fetches the runtime of each foreign target from the npm registry on first use.
import {createHash} from 'node:crypto'
import {createReadStream, mkdirSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import pjson from '../package.json' with {type: 'json'}
import {compileArgs} from './build-args.ts'

/**
 * Release target → Bun target. x64 uses Bun's baseline build: many industrial x86 devices
 * (Atom, Celeron, older Core) lack AVX2, which the default x64 build requires.
 */
export const RELEASE_TARGETS: Readonly<Record<string, string>> = {
  'linux-x64': 'bun-linux-x64-baseline',
  'linux-arm64': 'bun-linux-arm64',
  'linux-x64-musl': 'bun-linux-x64-musl-baseline',
  'linux-arm64-musl': 'bun-linux-arm64-musl',
}

export const releaseFileName = (version: string, target: string) => `margo-${version}-${target}`

/** One line per file, as sha256sum prints them (two spaces: text mode). */
export function formatSums(sums: Array<{file: string, sha256: string}>): string {
  return [...sums].sort((a, b) => a.file.localeCompare(b.file)).map(s => `${s.sha256}  ${s.file}\n`).join('')
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

function parseArgs(argv: string[]): {targets: string[], out: string} {
  let targets = Object.keys(RELEASE_TARGETS)
  let out = 'dist/release'
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const value = () => {
      const v = argv[++i]
      if (v === undefined) fail(`${a} needs a value`)
      return v
    }
    if (a === '--targets') targets = value().split(',').map(s => s.trim()).filter(Boolean)
    else if (a === '--out') out = value()
    else fail(`unknown argument ${a} (known: --targets LIST, --out DIR)`)
  }
  const unknown = targets.filter(t => !(t in RELEASE_TARGETS))
  if (unknown.length > 0) fail(`unknown target ${unknown.join(', ')} (known: ${Object.keys(RELEASE_TARGETS).join(', ')})`)
  return {targets, out}
}

function fail(message: string): never {
  process.stderr.write(`release: ${message}\n`)
  process.exit(1)
}

async function main() {
  const root = resolve(import.meta.dir, '..')
  const {targets, out} = parseArgs(process.argv.slice(2))
  const outDir = resolve(root, out)
  mkdirSync(outDir, {recursive: true})
  // A stale binary of another version would otherwise sit beside a SHA256SUMS that omits it.
  for (const name of readdirSync(outDir)) if (name.startsWith('margo-') || name === 'SHA256SUMS') rmSync(join(outDir, name), {force: true})

  const sums: Array<{file: string, sha256: string}> = []
  for (const target of targets) {
    const file = releaseFileName(pjson.version, target)
    const started = performance.now()
    const r = Bun.spawnSync([process.execPath, ...compileArgs(join(outDir, file), RELEASE_TARGETS[target])], {cwd: root, stdout: 'pipe', stderr: 'pipe'})
    if (r.exitCode !== 0) {
      process.stderr.write(r.stdout.toString() + r.stderr.toString())
      fail(`building ${target} (${RELEASE_TARGETS[target]}) failed with exit code ${r.exitCode}`)
    }
    let size = 0
    try { size = statSync(join(outDir, file)).size } catch { /* reported below */ }
    if (size === 0) fail(`building ${target} (${RELEASE_TARGETS[target]}) produced no executable`)
    sums.push({file, sha256: await sha256File(join(outDir, file))})
    process.stderr.write(`release: ${file} (${(size / 1048576).toFixed(1)} MiB) in ${((performance.now() - started) / 1000).toFixed(1)}s\n`)
  }
  writeFileSync(join(outDir, 'SHA256SUMS'), formatSums(sums))
  process.stderr.write(`release: ${sums.length} executable(s) and SHA256SUMS in ${outDir}\n`)
}

if (import.meta.main) await main()
