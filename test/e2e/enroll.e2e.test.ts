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

test('enroll-command: one line installs a verified agent with its config and vouches for the device: active at once with its labels, once; tampering is refused', async () => {
  ensureBinary()
  // A release directory holding this host's build, as bun run release would name it.
  const release = join(work, 'release')
  mkdirSync(release)
  const file = `margo-${pjson.version}-linux-${process.arch === 'arm64' ? 'arm64' : 'x64'}`
  copyFileSync(BIN, join(release, file))
  writeFileSync(join(release, 'SHA256SUMS'), `${sha256(BIN)}  ${file}\n`)
  // The default enrollment: devices wait for approval unless something vouches for them.
  server = await startServe(['--release-dir', release])

  const issued = cli(server.dataDir, 'device', 'enroll-command', '--labels', 'site=plant-7,line=2')
  expect(issued.code).toBe(0)
  const line = issued.stdout.trim()
  expect(line.split('\n')).toHaveLength(1)
  expect(issued.stderr).toContain('labels: line=2,site=plant-7')
  expect(issued.stderr).toContain('admits one device')
  const token = /'(margo-join_[A-Za-z0-9_-]+)'$/.exec(line)?.[1]
  expect(token).toBeDefined()
  const tokens = cli(server.dataDir, 'device', 'join-token', 'list', '--json').json<Array<{id: string, labels: Record<string, string>, maxUses: number, uses: number}>>()
  expect(tokens).toHaveLength(1)
  expect(tokens[0]!.labels).toEqual({line: '2', site: 'plant-7'})
  expect(tokens[0]!.maxUses).toBe(1)

  // Installed into a root without systemd: told how to start the agent.
  const root = join(work, 'root')
  const first = runLine(line, root)
  expect(first.stderr).toContain('systemd is not running here')
  expect(first.code).toBe(0)
  expect(first.stdout + first.stderr).not.toContain(token!)
  const installed = join(root, 'usr/local/bin/margo')
  expect(sha256(installed)).toBe(sha256(BIN))
  expect(statSync(installed).mode & 0o111).toBeTruthy()
  const config = join(root, 'etc/margo/agent.yaml')
  expect(statSync(config).mode & 0o777).toBe(0o600)
  expect(readFileSync(config, 'utf8')).toContain(`server: '${server.url}'`)
  expect(readFileSync(config, 'utf8')).toContain(`joinToken: '${token}'`)
  expect(readFileSync(join(root, 'etc/margo/ca.pem'), 'utf8').replace(/\s/g, '')).toBe(server.ca.replace(/\s/g, ''))
  expect(existsSync(join(root, 'etc/systemd/system/margo-agent.service'))).toBe(true)
  const command = first.stdout.trim().split(/\s+/)
  expect(command.slice(0, 2)).toEqual([installed, 'agent'])

  // The printed command, as the operator would run it: vouched for by the line, active at once with its labels.
  const agentOf = (cmd: string[]) => () => Bun.spawnSync([...cmd, '--once', '--simulate-drivers', '--log-format', 'json'], {stdout: 'pipe', stderr: 'pipe'})
  const agent = agentOf(command)
  const joined = agent()
  expect(joined.stderr.toString()).toContain('join.admitted')
  expect(joined.stderr.toString()).not.toContain(token!)
  expect(joined.exitCode).toBe(0)
  const devices = () => cli(server!.dataDir, 'device', 'list', '--json').json<Array<{clientId: string, enrollment: string, labels: Record<string, string>}>>()
  expect(devices()).toHaveLength(1)
  const [device] = devices()
  expect(device!.enrollment).toBe('active')
  expect(device!.labels).toEqual({line: '2', site: 'plant-7'})

  // Running the line again is safe: same device, same identity, the token not presented twice.
  const again = runLine(line, root)
  expect(again.code).toBe(0)
  const rerun = agent()
  expect(rerun.exitCode).toBe(0)
  expect(rerun.stderr.toString()).not.toContain('join.admitted')
  expect(devices().map(d => d.clientId)).toEqual([device!.clientId])

  // The same line on another device (another identity): the token is used up, so it waits for approval without the labels.
  const other = runLine(line, join(work, 'root-2'))
  expect(other.code).toBe(0)
  const otherAgent = agentOf(other.stdout.trim().split(/\s+/))
  const refused = otherAgent().stderr.toString()
  expect(refused).toContain('join.refused')
  expect(refused).toContain('join_token_used_up')
  expect(refused).not.toContain(token!)
  const second = devices().find(d => d.clientId !== device!.clientId)!
  expect(second.enrollment).toBe('pending')
  expect(second.labels).toEqual({})
  expect(cli(server.dataDir, 'device', 'approve', second.clientId).code).toBe(0)
  expect(otherAgent().exitCode).toBe(0)
  expect(cli(server.dataDir, 'device', 'join-token', 'list', '--json').json<Array<{uses: number}>>()[0]!.uses).toBe(1)

  // Each use is audited; the token shows in no audit entry and no server log line.
  const audit = cli(server.dataDir, 'audit', 'export')
  expect(audit.code).toBe(0)
  expect(audit.stdout).toContain('join_token.created')
  expect(audit.stdout).not.toContain(token!)
  expect(server.stderr()).not.toContain(token!)

  // Without a join token the line vouches for nobody: it carries no token, and labels are refused with it.
  const bare = cli(server.dataDir, 'device', 'enroll-command', '--no-join-token')
  expect(bare.code).toBe(0)
  expect(bare.stdout).not.toContain('margo-join_')
  expect(bare.stderr).toContain('margo device approve')
  const labelled = cli(server.dataDir, 'device', 'enroll-command', '--no-join-token', '--labels', 'site=x')
  expect(labelled.code).not.toBe(0)
  expect(labelled.stderr).toContain('margo device label')

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
