import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach} from 'bun:test'

const made: string[] = []
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, {recursive: true, force: true})
})

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'margo-state-'))
  made.push(d)
  return d
}
