import {afterEach, describe, expect, test} from 'bun:test'
import {mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

const SCRIPT = join(import.meta.dir, '../../../scripts/link-margo.sh')
const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})

function prefix(): string {
  const d = mkdtempSync(join(tmpdir(), 'margo-link-'))
  dirs.push(d)
  return d
}

function link(target: string, at: string, path = '/usr/bin:/bin'): {stderr: string, code: number} {
  const r = Bun.spawnSync(['bash', SCRIPT, target, at], {env: {PATH: path}, stdout: 'pipe', stderr: 'pipe'})
  return {stderr: r.stderr.toString(), code: r.exitCode ?? -1}
}

describe('install.sh puts margo on PATH without replacing another margo silently', () => {
  test('a fresh prefix gets the link', () => {
    const p = prefix()
    const r = link('/opt/checkout/dist/margo', p)
    expect(r.code).toBe(0)
    expect(readlinkSync(join(p, 'bin/margo'))).toBe('/opt/checkout/dist/margo')
    expect(r.stderr).not.toContain('replacing')
  })

  test('a link to another checkout is named before it is replaced', () => {
    const p = prefix()
    link('/srv/old-checkout/dist/margo', p)
    const r = link('/opt/checkout/dist/margo', p)
    expect(r.stderr).toContain('which pointed to /srv/old-checkout/dist/margo')
    expect(r.stderr.indexOf('replacing')).toBeLessThan(r.stderr.indexOf('installed'))
    expect(readlinkSync(join(p, 'bin/margo'))).toBe('/opt/checkout/dist/margo')
  })

  test('running it again for the same checkout says nothing about replacing', () => {
    const p = prefix()
    link('/opt/checkout/dist/margo', p)
    expect(link('/opt/checkout/dist/margo', p).stderr).not.toContain('replacing')
  })

  test('a plain file is kept as margo.previous', () => {
    const p = prefix()
    link('/opt/checkout/dist/margo', p)
    rmSync(join(p, 'bin/margo'))
    writeFileSync(join(p, 'bin/margo'), '#!/bin/sh\necho vendor margo\n')
    const r = link('/opt/checkout/dist/margo', p)
    expect(r.stderr).toContain('margo.previous')
    expect(readFileSync(join(p, 'bin/margo.previous'), 'utf8')).toContain('vendor margo')
    expect(readlinkSync(join(p, 'bin/margo'))).toBe('/opt/checkout/dist/margo')
  })

  test('a different margo earlier on PATH is pointed out', () => {
    const p = prefix()
    const other = prefix()
    link('/bin/true', other)
    const r = link('/opt/checkout/dist/margo', p, `${join(other, 'bin')}:${join(p, 'bin')}:/usr/bin:/bin`)
    expect(r.stderr).toContain(`${join(other, 'bin/margo')} comes first on PATH`)
  })
})
