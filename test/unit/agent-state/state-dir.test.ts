import {describe, expect, test} from 'bun:test'
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {StateDir} from '../../../src/agent/state/state-dir.ts'
import {tempDir} from './helpers.ts'

describe('state directory', () => {
  test('JSON round-trips and a missing file reads as null', () => {
    const sd = new StateDir(tempDir())
    expect(sd.readJson('outbox.json')).toBeNull()
    sd.writeJson('outbox.json', {a: [1, 2]})
    expect(sd.readJson('outbox.json')).toEqual({a: [1, 2]})
  })

  test('a corrupt file is moved aside and reads as null, never wedging the agent', () => {
    const dir = tempDir()
    const sd = new StateDir(dir)
    writeFileSync(join(dir, 'outbox.json'), '{"seq": 4, "entr')
    expect(sd.readJson('outbox.json')).toBeNull()
    expect(existsSync(join(dir, 'outbox.json'))).toBe(false)
    const aside = readdirSync(dir).filter(f => f.startsWith('outbox.json.corrupt-'))
    expect(aside.length).toBe(1)
    expect(readFileSync(join(dir, aside[0]!), 'utf8')).toBe('{"seq": 4, "entr')
    // and the next write starts afresh
    sd.writeJson('outbox.json', {ok: true})
    expect(sd.readJson('outbox.json')).toEqual({ok: true})
  })

  test('a file of the wrong shape is treated like a corrupt one', () => {
    const dir = tempDir()
    const sd = new StateDir(dir)
    sd.writeJson('accepted.json', [1, 2, 3])
    const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null && !Array.isArray(v)
    expect(sd.readJson('accepted.json', isObject)).toBeNull()
    expect(readdirSync(dir).some(f => f.startsWith('accepted.json.corrupt-'))).toBe(true)
  })

  test('only a few quarantined copies are kept', async () => {
    const dir = tempDir()
    const sd = new StateDir(dir)
    for (let i = 0; i < 6; i++) {
      writeFileSync(join(dir, 'outbox.json'), 'garbage')
      sd.readJson('outbox.json')
      await Bun.sleep(2)
    }
    expect(readdirSync(dir).filter(f => f.startsWith('outbox.json.corrupt-')).length).toBe(3)
  })

  test('names cannot escape the directory', () => {
    const sd = new StateDir(tempDir())
    expect(() => sd.path('../x.json')).toThrow()
    expect(() => sd.path('/etc/passwd')).toThrow()
    expect(() => sd.path('artifacts/../../x')).toThrow()
    expect(sd.path('artifacts/a/b.yaml')).toBe(join(sd.dir, 'artifacts/a/b.yaml'))
  })
})

describe('crash safety', () => {
  test('a temporary left by a crash before rename is ignored and swept; the old content survives', () => {
    const dir = tempDir()
    new StateDir(dir).writeJson('accepted.json', {manifestVersion: 3})
    // what a kill between writing the temporary and renaming it leaves behind
    const torn = join(dir, 'accepted.json.tmp-999999-1700000000000')
    writeFileSync(torn, '{"manifestVersion": 4, "te')
    const identityTmp = join(dir, 'key.pem.tmp-999999-1700000000000')
    writeFileSync(identityTmp, 'not ours')
    const sd = new StateDir(dir)
    expect(sd.readJson('accepted.json')).toEqual({manifestVersion: 3})
    expect(existsSync(torn)).toBe(false)
    expect(existsSync(identityTmp)).toBe(true)
  })

  test('SIGKILL during a stream of writes leaves a whole file, old or new', async () => {
    const dir = tempDir()
    const script = join(dir, 'writer.ts')
    writeFileSync(script, `
      import {StateDir} from ${JSON.stringify(join(import.meta.dir, '../../../src/agent/state/state-dir.ts'))}
      const sd = new StateDir(process.argv[2])
      const pad = 'x'.repeat(200_000)
      for (let i = 0; ; i++) {
        sd.writeJson('workloads.json', {i, pad})
        if (i === 3) console.log('ready')
      }
    `)
    const stateDir = join(dir, 'state')
    const child = Bun.spawn([process.execPath, script, stateDir], {stdout: 'pipe', stderr: 'inherit'})
    const reader = child.stdout.getReader()
    await reader.read()
    await Bun.sleep(50)
    child.kill('SIGKILL')
    await child.exited
    const value = new StateDir(stateDir).readJson<{i: number, pad: string}>('workloads.json')
    expect(value).not.toBeNull()
    expect(value!.i).toBeGreaterThanOrEqual(3)
    expect(value!.pad.length).toBe(200_000)
    expect(readdirSync(stateDir).filter(f => f.includes('.tmp-') || f.includes('.corrupt-'))).toEqual([])
  })
})
