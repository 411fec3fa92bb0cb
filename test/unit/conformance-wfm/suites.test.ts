import {describe, expect, test} from 'bun:test'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {lookupSuites, requireSuites} from '../../../src/conformance/data/suites.ts'
import {UsageError} from '../../../src/util/errors.ts'

const NEEDS = ['conformance/a.json', 'conformance-2/b.json']

function checkout(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'margo-suites-'))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), {recursive: true})
    writeFileSync(join(root, path), text)
  }
  return root
}

describe('the Margo conformance material, read at run time', () => {
  test('a checkout with every needed file is read in place', () => {
    const root = checkout({'conformance/a.json': '{"x": 1}', 'conformance-2/b.json': '[]'})
    const found = lookupSuites(root, 'the x suite', NEEDS)
    if (!found.ok) throw new Error(found.reason)
    expect(found.suites.json<{x: number}>('conformance/a.json')).toEqual({x: 1})
    expect(found.suites.text('conformance-2/b.json')).toBe('[]')
  })

  test('absent, not a folder or incomplete: one line naming what is missing and how to get it', () => {
    const none = lookupSuites(undefined, 'the x suite', NEEDS)
    const empty = lookupSuites('', 'the x suite', NEEDS)
    const notDir = lookupSuites('/nonexistent/suites', 'the x suite', NEEDS)
    const partial = checkout({'conformance/a.json': '{}'})
    const incomplete = lookupSuites(partial, 'the x suite', NEEDS)
    const reasons = [none, empty, notDir, incomplete].map(r => (r.ok ? '' : r.reason))
    expect(reasons[0]).toStartWith('the x suite needs the Margo conformance suites, and none were given: pass --suites DIR or set MARGO_CONFORMANCE_DIR')
    expect(reasons[1]).toBe(reasons[0]!)
    expect(reasons[2]).toContain('/nonexistent/suites is not a directory')
    expect(reasons[3]).toStartWith(`the x suite needs conformance-2/b.json, which ${partial} does not have: `)
    for (const r of reasons) {
      expect(r).not.toContain('\n')
      expect(r).toContain('(the folder that holds conformance/, conformance-2/ and conformance-backups/)')
    }
  })

  test('requireSuites makes a missing suite a usage error (exit 2)', () => {
    let err: unknown
    try { requireSuites(undefined, 'the x suite', NEEDS) } catch (e) { err = e }
    expect(err).toBeInstanceOf(UsageError)
    expect((err as UsageError).exitCode).toBe(2)
  })
})
