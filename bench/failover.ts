#!/usr/bin/env bun
/**
 * Controller failover on PostgreSQL: two `margo serve` nodes (the compiled binary) on one private
 * cluster (MARGO_TEST_DATABASE_URL when set); the node running the controllers is killed with
 * SIGKILL and the time until the other logs `lease.acquired` is measured, `--rounds` times (the
 * killed node comes back as the standby). Then once with SIGSTOP, a node frozen without closing
 * its connections (as after a power loss or a partition).
 *
 * Yardstick of the same run: the same mechanism without margo — a bare process holding
 * pg_try_advisory_xact_lock in an open transaction is killed, and a bare contender asking every
 * second (margo's interval) takes the lock.
 *
 *   bun bench/failover.ts [--rounds 5]
 */
import {cpSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import {ensureBinary, type ServeProcess, startServe} from '../test/e2e/binary.ts'
import {startPostgresCluster} from '../test/integration/postgres-cluster.ts'

const {values} = parseArgs({options: {rounds: {type: 'string', default: '5'}}})
const ROUNDS = Number(values.rounds)
ensureBinary()
const work = mkdtempSync(join(tmpdir(), 'margo-bench-failover-'))
const cluster = process.env.MARGO_TEST_DATABASE_URL ? null : await startPostgresCluster()
const url = process.env.MARGO_TEST_DATABASE_URL || cluster!.url

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const acquired = (n: ServeProcess) => (n.stderr().match(/"event":"lease\.acquired"/g) ?? []).length

async function waitFor(what: string, ok: () => boolean, ms: number) {
  const deadline = performance.now() + ms
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`)
    await Bun.sleep(5)
  }
}

// The yardstick: the advisory-lock handover alone, between two bare processes.
const BARE = `
import postgres from '${join(import.meta.dir, '../node_modules/postgres/src/index.js')}'
const sql = postgres(process.argv[1], {max: 1, onnotice: () => {}})
for (;;) {
  await sql.unsafe('BEGIN')
  const [r] = await sql.unsafe("SELECT pg_try_advisory_xact_lock(42, 42) AS won")
  if (r.won) { console.log('won'); break }
  await sql.unsafe('ROLLBACK')
  await Bun.sleep(1000)
}
`
async function bareHandover(): Promise<number> {
  const spawn = () => {
    const p = Bun.spawn([process.execPath, '-e', BARE, url], {stdout: 'pipe', stderr: 'inherit'})
    let out = ''
    void (async () => { for await (const c of p.stdout) out += new TextDecoder().decode(c) })()
    return {p, won: () => out.includes('won')}
  }
  const holder = spawn()
  await waitFor('the bare holder', holder.won, 10_000)
  const contender = spawn()
  await Bun.sleep(1_500)
  const t0 = performance.now()
  holder.p.kill('SIGKILL')
  await waitFor('the bare contender', contender.won, 15_000)
  const ms = performance.now() - t0
  contender.p.kill('SIGKILL')
  return ms
}

const args = ['--database', url, '--workers', '1', '--log-level', 'info']
const first = await startServe(args, join(work, 'a'))
const secondDir = join(work, 'b')
mkdirSync(secondDir, {mode: 0o700})
cpSync(join(first.dataDir, 'tls'), join(secondDir, 'tls'), {recursive: true})
for (const f of ['operator-token', 'secret.key']) cpSync(join(first.dataDir, f), join(secondDir, f))
const nodes: ServeProcess[] = [first, await startServe(args, secondDir)]

const killed: number[] = []
const bare: number[] = []
try {
  await waitFor('a first leader', () => nodes.some(n => acquired(n) > 0), 15_000)
  for (let round = 0; round < ROUNDS; round++) {
    const leader = nodes.findIndex(n => acquired(n) > 0)
    const other = 1 - leader
    const before = acquired(nodes[other]!)
    // Let the standby settle into its one-second rhythm, at a random phase.
    await Bun.sleep(1_000 + Math.random() * 1_000)
    const t0 = performance.now()
    nodes[leader]!.proc.kill('SIGKILL')
    await waitFor('the standby to take over', () => acquired(nodes[other]!) > before, 15_000)
    killed.push(performance.now() - t0)
    nodes[leader] = await startServe(args, nodes[leader]!.dataDir)
    bare.push(await bareHandover())
  }
  const leader = nodes.findIndex(n => acquired(n) > 0)
  const other = 1 - leader
  const before = acquired(nodes[other]!)
  await Bun.sleep(1_500)
  const t0 = performance.now()
  nodes[leader]!.proc.kill('SIGSTOP')
  await waitFor('the standby to take over from a frozen node', () => acquired(nodes[other]!) > before, 20_000)
  const frozen = performance.now() - t0
  nodes[leader]!.proc.kill('SIGKILL')

  const result = {
    rounds: ROUNDS,
    sigkillMs: killed.map(Math.round), sigkillMedianMs: Math.round(median(killed)),
    bareMs: bare.map(Math.round), bareMedianMs: Math.round(median(bare)),
    timesBare: Number((median(killed) / median(bare)).toFixed(2)),
    sigstopMs: Math.round(frozen),
  }
  console.log(JSON.stringify(result))
  console.error(`failover after SIGKILL: median ${result.sigkillMedianMs} ms (${result.sigkillMs.join(', ')}) = ${result.timesBare}× the bare advisory-lock handover (median ${result.bareMedianMs} ms); after SIGSTOP: ${result.sigstopMs} ms`)
} finally {
  for (const n of nodes) n.proc.kill('SIGKILL')
  cluster?.stop()
  rmSync(work, {recursive: true, force: true})
}
