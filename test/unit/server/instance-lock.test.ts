import {describe, expect, test} from 'bun:test'
import {existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {acquireInstanceLock, ServerAlreadyRunning} from '../../../src/server/instance-lock.ts'

const lockIn = () => join(mkdtempSync(join(tmpdir(), 'margo-lock-')), 'serve.lock')
const held = (pid: number) => new ServerAlreadyRunning('/data', pid, 'https://127.0.0.1:8443')

async function deadPid(): Promise<number> {
  const p = Bun.spawn(['true'])
  await p.exited
  return p.pid
}

describe('data directory lock', () => {
  test('holds our pid while held and is gone once released, leaving no temporary files', () => {
    const path = lockIn()
    const lock = acquireInstanceLock(path, held)
    expect(readFileSync(path, 'utf8')).toBe(`${process.pid}\n`)
    lock.release()
    expect(readdirSync(join(path, '..'))).toEqual([])
  })

  test('a lock held by a live server is refused with that server named', async () => {
    const path = lockIn()
    // Where /proc is read, the holder must look like a margo serve: `serve` among its arguments.
    const serveLike = Bun.spawn(['bash', '-c', 'read -r _', 'serve'], {stdin: 'pipe'})
    try {
      while (!readFileSync(`/proc/${serveLike.pid}/cmdline`, 'utf8').includes('serve')) await Bun.sleep(10)
      writeFileSync(path, `${serveLike.pid}\n`)
      expect(() => acquireInstanceLock(path, held)).toThrow(ServerAlreadyRunning)
      expect(() => acquireInstanceLock(path, held)).toThrow(`pid ${serveLike.pid}`)
      expect(readFileSync(path, 'utf8')).toBe(`${serveLike.pid}\n`)
    } finally {
      serveLike.kill()
    }
  })

  test('a running margo db migrate holds the lock too: no server starts under it', async () => {
    const path = lockIn()
    const migrating = Bun.spawn(['bash', '-c', 'read -r _', 'margo', 'db', 'migrate'], {stdin: 'pipe'})
    try {
      while (!readFileSync(`/proc/${migrating.pid}/cmdline`, 'utf8').includes('migrate')) await Bun.sleep(10)
      writeFileSync(path, `${migrating.pid}\n`)
      expect(() => acquireInstanceLock(path, held)).toThrow(ServerAlreadyRunning)
    } finally {
      migrating.kill()
    }
  })

  test('a live pid that is not a margo serve (reused after a restart) does not hold the lock', () => {
    const path = lockIn()
    const unrelated = Bun.spawn(['sleep', '30'])
    try {
      writeFileSync(path, `${unrelated.pid}\n`)
      acquireInstanceLock(path, held).release()
    } finally {
      unrelated.kill()
    }
  })

  test('a lock of a dead process, of our own pid or with garbage in it is taken over', async () => {
    for (const content of [`${await deadPid()}\n`, `${process.pid}\n`, '', 'not a pid']) {
      const path = lockIn()
      writeFileSync(path, content)
      const lock = acquireInstanceLock(path, held)
      expect(readFileSync(path, 'utf8')).toBe(`${process.pid}\n`)
      lock.release()
      expect(existsSync(path)).toBe(false)
    }
  })

  test('release leaves a lock that another process has taken over', () => {
    const path = lockIn()
    const lock = acquireInstanceLock(path, held)
    writeFileSync(path, '999999\n')
    lock.release()
    expect(readFileSync(path, 'utf8')).toBe('999999\n')
  })
})
