// A private PostgreSQL cluster for tests: initdb into a temp dir, pg_ctl on a free loopback
// port, trust authentication on loopback only, no system service. Root may not run initdb:
// the cluster then belongs to the `postgres` user (Debian's package creates it) or `nobody`.
import {chmodSync, existsSync, mkdtempSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

const BIN_DIRS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin', '/usr/local/bin', '/usr/bin']

/** The directory holding initdb and pg_ctl, or null when PostgreSQL is not installed. */
export function postgresBinDir(): string | null {
  return BIN_DIRS.find(d => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl'))) ?? null
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as {port: number}).port
      s.close(() => resolve(port))
    })
  })
}

export interface PostgresCluster {
  url: string
  port: number
  /** Stops it the hard way (as a crash does: no shutdown checkpoint, sessions cut) and starts it again. */
  restart(): void
  stop(): void
}

function asOwner(argv: string[], user: string | null): string[] {
  return user ? ['runuser', '-u', user, '--', ...argv] : argv
}

export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = postgresBinDir()
  if (!bin) throw new Error('PostgreSQL is not installed (initdb, pg_ctl): run test/integration/setup-postgres.sh')
  const root = process.getuid?.() === 0
  const user = root ? (Bun.spawnSync(['id', 'postgres']).exitCode === 0 ? 'postgres' : 'nobody') : null
  const dir = mkdtempSync(join(tmpdir(), 'margo-pg-'))
  chmodSync(dir, 0o777)
  const data = join(dir, 'data')
  const port = await freePort()
  const run = (argv: string[]) => {
    const r = Bun.spawnSync(asOwner(argv, user), {stdout: 'pipe', stderr: 'pipe'})
    if (r.exitCode !== 0) throw new Error(`${argv[0]} failed: ${r.stderr.toString()}${r.stdout.toString()}`)
  }
  // C collation: text compares byte by byte, as in SQLite (prefix ranges, ORDER BY of ids).
  run([join(bin, 'initdb'), '-D', data, '-U', 'margo', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'])
  // fsync off: a test cluster is thrown away; the tests measure margo, not the disk.
  run([join(bin, 'pg_ctl'), '-D', data, '-l', join(dir, 'log'), '-w', '-o',
    `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=off -c max_connections=200`, 'start'])
  const stop = () => {
    Bun.spawnSync(asOwner([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'], user), {stdout: 'ignore', stderr: 'ignore'})
    rmSync(dir, {recursive: true, force: true})
  }
  const restart = () => run([join(bin, 'pg_ctl'), '-D', data, '-l', join(dir, 'log'), '-m', 'immediate', '-w', 'restart'])
  return {url: `postgres://margo@127.0.0.1:${port}/postgres`, port, restart, stop}
}

if (import.meta.main) {
  // `bun test/integration/postgres-cluster.ts`: a cluster for a manual run; prints its URL.
  const c = await startPostgresCluster()
  console.log(c.url)
  process.on('SIGINT', () => { c.stop(); process.exit(0) })
  process.on('SIGTERM', () => { c.stop(); process.exit(0) })
  setInterval(() => {}, 1 << 30)
}
