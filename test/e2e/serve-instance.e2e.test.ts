import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {BIN, cli, ensureBinary, startServe, type ServeProcess} from './binary.ts'

const newDataDir = () => mkdtempSync(join(tmpdir(), 'margo-e2e-'))

/** Run a `margo serve` that is expected to refuse to start; one that keeps running fails the test. */
async function serveExpectingRefusal(dataDir: string, listen: string): Promise<{code: number, stderr: string}> {
  ensureBinary()
  const proc = Bun.spawn([BIN, 'serve', '--listen', listen, '--data-dir', dataDir, '--log-format', 'json'], {stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1'}})
  const exited = await Promise.race([proc.exited, Bun.sleep(10000).then(() => undefined)])
  if (exited === undefined) {
    proc.kill('SIGTERM')
    await proc.exited
    throw new Error(`the second margo serve kept running:\n${await new Response(proc.stdout).text()}`)
  }
  return {code: exited, stderr: await new Response(proc.stderr).text()}
}

/** The pid of a process that has exited: what a crashed server leaves in its lock. */
async function deadPid(): Promise<number> {
  const p = Bun.spawn(['true'])
  await p.exited
  return p.pid
}

let first: ServeProcess
beforeAll(async () => { first = await startServe() })
afterAll(async () => { await first.stop() })

describe('one margo serve per port and per data directory', () => {
  test('a second server on the same port is refused instead of sharing it', async () => {
    const r = await serveExpectingRefusal(newDataDir(), `127.0.0.1:${first.port}`)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${first.port}: the port is already in use`)
  }, 20000)

  test('a second server on the same data directory is refused with one line naming the running one', async () => {
    const r = await serveExpectingRefusal(first.dataDir, '127.0.0.1:0')
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain(`pid ${first.proc.pid}`)
    expect(r.stderr).toContain(first.url)
  }, 20000)

  test('the refused server leaves the running one\'s server.json alone; operator commands still find it', () => {
    const info = JSON.parse(readFileSync(join(first.dataDir, 'server.json'), 'utf8')) as {pid: number, url: string}
    expect(info.pid).toBe(first.proc.pid)
    expect(info.url).toBe(first.url)
    expect(cli(first.dataDir, 'device', 'list', '--json').code).toBe(0)
  })

  test('a lock and server.json left by a server that died are taken over', async () => {
    const dataDir = newDataDir()
    const pid = await deadPid()
    writeFileSync(join(dataDir, 'serve.lock'), `${pid}\n`)
    writeFileSync(join(dataDir, 'server.json'), JSON.stringify({url: 'https://127.0.0.1:1/', operatorUrl: 'https://127.0.0.1:1/operator', pid}))
    const server = await startServe([], dataDir)
    try {
      expect(readFileSync(join(dataDir, 'serve.lock'), 'utf8').trim()).toBe(String(server.proc.pid))
      expect(JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8')).pid).toBe(server.proc.pid)
    } finally {
      expect(await server.stop()).toBe(0)
    }
    expect(existsSync(join(dataDir, 'serve.lock'))).toBe(false)
    expect(existsSync(join(dataDir, 'server.json'))).toBe(false)
  }, 20000)
})
