import {afterAll, expect, test} from 'bun:test'
import {createHash} from 'node:crypto'
import {appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import pjson from '../../package.json' with {type: 'json'}
import {BIN, cli, ensureBinary, startServe, type ServeProcess} from './binary.ts'

// The enroll line end to end on this machine, in a temp install root (MARGO_INSTALL_ROOT):
// systemd is never touched there, so the script prints how to run the agent and the test does.
const work = mkdtempSync(join(tmpdir(), 'margo-enroll-e2e-'))
let server: ServeProcess | undefined
afterAll(async () => {
  await server?.stop()
  rmSync(work, {recursive: true, force: true})
})

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex')
const runLine = (line: string, root: string) => {
  const r = Bun.spawnSync(['sh', '-c', line], {cwd: work, env: {...process.env, MARGO_INSTALL_ROOT: root}, stdout: 'pipe', stderr: 'pipe'})
  return {code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString()}
}

test('enroll-command: one line installs a verified agent with its config; the device onboards with its labels; tampering is refused', async () => {
  ensureBinary()
  // A release directory holding this host's build, as bun run release would name it.
  const release = join(work, 'release')
  mkdirSync(release)
  const file = `margo-${pjson.version}-linux-${process.arch === 'arm64' ? 'arm64' : 'x64'}`
  copyFileSync(BIN, join(release, file))
  writeFileSync(join(release, 'SHA256SUMS'), `${sha256(BIN)}  ${file}\n`)
  server = await startServe(['--release-dir', release, '--enrollment', 'approve'])

  const issued = cli(server.dataDir, 'device', 'enroll-command', '--labels', 'site=plant-7,line=2')
  expect(issued.code).toBe(0)
  const line = issued.stdout.trim()
  expect(line.split('\n')).toHaveLength(1)
  expect(issued.stderr).toContain('labels: line=2,site=plant-7')

  // Installed into a root without systemd: told how to start the agent.
  const root = join(work, 'root')
  const first = runLine(line, root)
  expect(first.stderr).toContain('systemd is not running here')
  expect(first.code).toBe(0)
  const installed = join(root, 'usr/local/bin/margo')
  expect(sha256(installed)).toBe(sha256(BIN))
  expect(statSync(installed).mode & 0o111).toBeTruthy()
  const config = join(root, 'etc/margo/agent.yaml')
  expect(statSync(config).mode & 0o777).toBe(0o600)
  expect(readFileSync(config, 'utf8')).toContain(`server: '${server.url}'`)
  expect(readFileSync(join(root, 'etc/margo/ca.pem'), 'utf8').replace(/\s/g, '')).toBe(server.ca.replace(/\s/g, ''))
  expect(existsSync(join(root, 'etc/systemd/system/margo-agent.service'))).toBe(true)
  const command = first.stdout.trim().split(/\s+/)
  expect(command.slice(0, 2)).toEqual([installed, 'agent'])

  // The printed command, as the operator would run it; pending approval it still gets its labels.
  const agent = () => Bun.spawnSync([...command, '--once', '--simulate-drivers', '--log-format', 'json'], {stdout: 'pipe', stderr: 'pipe'})
  const pending = agent()
  expect(pending.stderr.toString()).toContain('enrollment.labels_applied')
  const devices = () => cli(server!.dataDir, 'device', 'list', '--json').json<Array<{clientId: string, enrollment: string, labels: Record<string, string>}>>()
  expect(devices()).toHaveLength(1)
  const [device] = devices()
  expect(device!.enrollment).toBe('pending')
  expect(device!.labels).toEqual({line: '2', site: 'plant-7'})
  expect(cli(server.dataDir, 'device', 'approve', device!.clientId).code).toBe(0)
  const active = agent()
  expect(active.exitCode).toBe(0)

  // Running the line again is safe: same device, same identity, nothing redeemed twice.
  const again = runLine(line, root)
  expect(again.code).toBe(0)
  const rerun = agent()
  expect(rerun.exitCode).toBe(0)
  expect(rerun.stderr.toString()).not.toContain('enrollment.labels_applied')
  expect(devices().map(d => d.clientId)).toEqual([device!.clientId])

  // A tampered executable (its SHA-256 no longer in SHA256SUMS) is refused; the installed one stays.
  appendFileSync(join(release, file), 'x')
  const tampered = runLine(line, join(work, 'root-tampered'))
  expect(tampered.code).not.toBe(0)
  expect(tampered.stderr).toContain(`checksum mismatch for ${file}`)
  expect(tampered.stderr).toContain('refusing to install it')
  expect(existsSync(join(work, 'root-tampered/usr/local/bin/margo'))).toBe(false)

  // A line whose fingerprint is not the server's CA installs nothing.
  const fingerprint = /margo-enroll '[^']+' '([0-9a-f]{64})'/.exec(line)![1]!
  const wrong = runLine(line.replace(fingerprint, fingerprint.replace(/^./, c => (c === '0' ? '1' : '0'))), join(work, 'root-wrong'))
  expect(wrong.code).not.toBe(0)
  expect(wrong.stderr).toContain('refused: the CA served by')
  expect(existsSync(join(work, 'root-wrong'))).toBe(false)
}, 120_000)
