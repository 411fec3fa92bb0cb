import {describe, expect, test} from 'bun:test'
import {readdirSync, readFileSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'

/**
 * The operator contract sits below both roles: the server builds its shapes, the client, the
 * CLI and the TUI read them. Neither side may reach into the other's code.
 */

const ROOT = resolve(import.meta.dir, '../../..')
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)'([^']+)'/gm

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), {recursive: true, encoding: 'utf8'})
    .filter(f => /\.tsx?$/.test(f))
    .map(f => join(dir, f))
}

/** Every relative import of `file`, as a path from the repository root. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8')
  return [...text.matchAll(IMPORT)]
    .map(m => m[1]!)
    .filter(spec => spec.startsWith('.'))
    .map(spec => relative(ROOT, resolve(ROOT, dirname(file), spec)))
}

const offending = (dirs: string[], allowed: (target: string) => boolean) =>
  dirs.flatMap(sources).flatMap(file => importsOf(file).filter(t => !allowed(t)).map(t => `${file} → ${t}`))

describe('operator contract boundaries', () => {
  test('the contract imports only itself, the Margo vocabulary and utilities', () => {
    const ok = (t: string) => ['src/operator-contract/', 'src/margo/', 'src/util/'].some(p => t.startsWith(p))
    expect(offending(['src/operator-contract'], ok)).toEqual([])
  })

  test('the client, the CLI and the TUI import no server code', () => {
    const ok = (t: string) => !t.startsWith('src/server/')
    expect(offending(['src/client', 'src/cli', 'src/tui'], ok)).toEqual([])
  })

  test('the scan sees imports', () => {
    expect(importsOf('src/client/status.ts')).toEqual(expect.arrayContaining(['src/client/events.ts', 'src/operator-contract/views.ts']))
  })
})
