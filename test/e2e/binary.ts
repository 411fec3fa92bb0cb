import {mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Subprocess} from 'bun'
import {Database} from 'bun:sqlite'
import type {Transport} from '../server/harness.ts'

const ROOT = join(import.meta.dir, '../..')
export const BIN = join(ROOT, 'dist/margo')

function newestSource(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs)
  }
  return newest
}

/** The compiled binary, rebuilt when a source file is newer than it (so `bun test` alone never tests a stale build). */
export function ensureBinary(): string {
  let built = 0
  try { built = statSync(BIN).mtimeMs } catch { /* not built yet */ }
  const sources = Math.max(newestSource(join(ROOT, 'src')), newestSource(join(ROOT, 'commands')), statSync(join(ROOT, 'package.json')).mtimeMs)
  if (built < sources) {
    const r = Bun.spawnSync([process.execPath, 'run', join(ROOT, 'scripts/build.ts')], {cwd: ROOT, stdout: 'pipe', stderr: 'pipe'})
    if (r.exitCode !== 0) throw new Error(`building dist/margo failed:\n${r.stderr.toString()}`)
  }
  return BIN
}

export interface ServeProcess {
  url: string
  port: number
  dataDir: string
  ca: string
  /** The start-up line margo serve printed on stdout. */
  startup: string
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  stderr(): string
  transport(): Transport
  stop(): Promise<number>
}

/** Start `margo serve` on a free loopback port; resolves when it prints its URL. */
export async function startServe(args: string[] = [], dataDir = mkdtempSync(join(tmpdir(), 'margo-e2e-')), listen = '127.0.0.1:0', command = [ensureBinary()]): Promise<ServeProcess> {
  const proc = Bun.spawn([...command, 'serve', '--listen', listen, '--data-dir', dataDir, '--log-format', 'json', ...args], {stdin: 'ignore', stdout: 'pipe', stderr: 'pipe'})
  let err = ''
  void (async () => { for await (const chunk of proc.stderr) err += new TextDecoder().decode(chunk) })()
  const reader = proc.stdout.getReader()
  let out = ''
  const deadline = Date.now() + 15000
  while (!/serving (\S+).*\n/.test(out)) {
    if (Date.now() > deadline) throw new Error(`margo serve did not start:\n${out}\n${err}`)
    const {value, done} = await reader.read()
    if (done) throw new Error(`margo serve exited:\n${out}\n${err}`)
    out += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  const url = /serving (\S+)/.exec(out)![1]!
  const ca = readFileSync(join(dataDir, 'tls/ca.pem'), 'utf8')
  return {
    url, dataDir, ca, proc,
    startup: out.split('\n').find(l => l.includes('serving'))!,
    port: Number(new URL(url).port),
    stderr: () => err,
    transport: () => ({base: url, handle: (r: Request) => fetch(r, {tls: {ca}})}),
    async stop() {
      proc.kill('SIGTERM')
      return proc.exited
    },
  }
}

/** Run an operator command against a data dir; `--json` output parsed when asked. */
export function cli(dataDir: string, ...args: string[]) {
  const r = Bun.spawnSync([BIN, ...args, '--data-dir', dataDir], {stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1'}})
  const stdout = r.stdout.toString()
  return {code: r.exitCode, stdout, stderr: r.stderr.toString(), json: <T = unknown>() => JSON.parse(stdout) as T}
}

export interface AgentProcess {
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  stateDir: string
  log(): string
  /** Resolves when a log line matching `pattern` has appeared (checked every 50 ms). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>
  stop(): Promise<number>
}

/**
 * Start `margo agent` with the recording fakes of helm and docker first on PATH, or with the
 * host's own tools when `realTools` is set (the integration tier).
 */
export function startAgent(server: {url: string, dataDir: string}, stateDir: string, env: Record<string, string> = {}, args: string[] = [], {realTools = false} = {}): AgentProcess {
  ensureBinary()
  const fakes = join(ROOT, 'test/fixtures/bin')
  // An explicit, empty config file: the host's /etc/margo/agent.yaml must not leak into a test.
  const configFile = join(stateDir + '.config.yaml')
  writeFileSync(configFile, '{}\n')
  const proc = Bun.spawn([BIN, 'agent', '--config', configFile, '--server', server.url, '--ca-file', join(server.dataDir, 'tls/ca.pem'), '--state-dir', stateDir,
    '--poll-interval', '1s', '--log-format', 'json', '--log-level', 'debug', ...args], {
    stdin: 'ignore', stdout: 'pipe', stderr: 'pipe',
    env: {...process.env, ...(realTools ? {} : {PATH: `${fakes}:${process.env.PATH}`}), ...env},
  })
  let out = ''
  void (async () => { for await (const chunk of proc.stderr) out += new TextDecoder().decode(chunk) })()
  return {
    proc, stateDir,
    log: () => out,
    async waitForLog(pattern, timeoutMs = 20000) {
      const deadline = Date.now() + timeoutMs
      while (!pattern.test(out)) {
        if (Date.now() > deadline) throw new Error(`agent log never matched ${pattern}:\n${out.slice(-4000)}`)
        await Bun.sleep(50)
      }
    },
    async stop() {
      proc.kill('SIGTERM')
      return proc.exited
    },
  }
}

/** Poll `check` until it returns a value (not undefined), or fail with the last value seen. */
export async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(100)
  }
}

/**
 * The running server's database, for tests that reach behind the API. The server's processes
 * write to it too (events, leases), so wait for a lock the way the server itself does.
 */
export function openServerDatabase(dataDir: string): Database {
  const db = new Database(join(dataDir, 'margo.db'))
  db.exec('PRAGMA busy_timeout = 5000')
  return db
}

/** A margo command as a script runs it: no terminal, no colour; exit code and both streams. */
export function margoScript(args: string[], env: Record<string, string> = {}) {
  const r = Bun.spawnSync([ensureBinary(), ...args], {stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1', ...env}})
  return {code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString()}
}

/** GET (or POST with a JSON body) on the server's operator API with its bootstrap token. */
export async function operatorApi<T>(server: ServeProcess, path: string, body?: unknown): Promise<T> {
  const token = readFileSync(join(server.dataDir, 'operator-token'), 'utf8').trim()
  const res = await fetch(`${server.url}/operator/v1${path}`, {
    method: body ? 'POST' : 'GET', tls: {ca: server.ca},
    headers: {authorization: `Bearer ${token}`, ...(body ? {'content-type': 'application/json'} : {})},
    body: body ? JSON.stringify(body) : undefined,
  })
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

/** Every manifest version the agent accepted, in order. */
export const acceptedVersions = (agent: AgentProcess) => [...agent.log().matchAll(/"event":"sync\.accepted"[^\n]*"manifestVersion":(\d+)/g)].map(m => Number(m[1]))
