import {describe, expect, test} from 'bun:test'
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import pjson from '../../package.json' with {type: 'json'}
import {formatSums, RELEASE_TARGETS, releaseFileName} from '../../scripts/release.ts'
import {ensureRelease} from './release-build.ts'

/** What `file` must say about each build: CPU and the dynamic loader the device must have. */
const FACTS: Record<string, {arch: RegExp, loader: string}> = {
  'linux-x64': {arch: /x86-64/, loader: '/lib64/ld-linux-x86-64.so.2'},
  'linux-arm64': {arch: /ARM aarch64/, loader: '/lib/ld-linux-aarch64.so.1'},
  'linux-x64-musl': {arch: /x86-64/, loader: '/lib/ld-musl-x86_64.so.1'},
  'linux-arm64-musl': {arch: /ARM aarch64/, loader: '/lib/ld-musl-aarch64.so.1'},
}

describe('bun run release', () => {
  test('every release target has its file-level facts checked', () => {
    expect(Object.keys(FACTS).sort()).toEqual(Object.keys(RELEASE_TARGETS).sort())
    expect(formatSums([{file: 'b', sha256: '2'.repeat(64)}, {file: 'a', sha256: '1'.repeat(64)}])).toBe(`${'1'.repeat(64)}  a\n${'2'.repeat(64)}  b\n`)
  })

  test('an unknown target fails the script and is named', () => {
    const r = Bun.spawnSync([process.execPath, 'run', join(import.meta.dir, '../../scripts/release.ts'), '--targets', 'linux-riscv64', '--out', '/nonexistent'], {stdout: 'pipe', stderr: 'pipe'})
    expect(r.exitCode).toBe(1)
    expect(r.stderr.toString()).toContain('unknown target linux-riscv64')
  })

  const release = ensureRelease()
  test.skipIf('skip' in release)(`four executables with the right architecture and loader, and SHA256SUMS over them${'skip' in release ? ` — skipped: ${release.skip}` : ''}`, () => {
    if ('skip' in release) return
    if (release.builtInSeconds !== undefined) process.stderr.write(`release: all targets built in ${release.builtInSeconds.toFixed(1)}s\n`)
    const sums = readFileSync(join(release.dir, 'SHA256SUMS'), 'utf8')
    for (const [target, facts] of Object.entries(FACTS)) {
      const name = releaseFileName(pjson.version, target)
      const path = join(release.dir, name)
      const described = Bun.spawnSync(['file', '-b', path]).stdout.toString()
      expect(described).toMatch(/^ELF 64-bit LSB executable/)
      expect(described).toMatch(facts.arch)
      expect(described).toContain(`interpreter ${facts.loader}`)
      expect(sums).toContain(`${createHash('sha256').update(readFileSync(path)).digest('hex')}  ${name}\n`)
    }
  }, 300_000)
})
