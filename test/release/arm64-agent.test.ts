import {afterAll, expect, test} from 'bun:test'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import pjson from '../../package.json' with {type: 'json'}
import {releaseFileName} from '../../scripts/release.ts'
import {HELLO_WORLD} from '../server/harness.ts'
import {cli, startServe, type ServeProcess} from '../e2e/binary.ts'
import {ensureRelease} from './release-build.ts'

// The linux-arm64 build as a device runs it, under qemu user-mode emulation with Debian's arm64
// glibc (test/release/setup-qemu.sh installs both), against this host's margo serve on loopback.
const QEMU = Bun.which('qemu-aarch64-static')
const SYSROOT = '/usr/aarch64-linux-gnu'
const release = ensureRelease()
const skip = 'skip' in release ? release.skip
  : !QEMU || !existsSync(join(SYSROOT, 'lib/ld-linux-aarch64.so.1')) ? 'qemu-aarch64-static or the arm64 glibc is missing: run test/release/setup-qemu.sh as root'
    : undefined

const work = mkdtempSync(join(tmpdir(), 'margo-arm64-e2e-'))
let server: ServeProcess | undefined
afterAll(async () => {
  await server?.stop()
  rmSync(work, {recursive: true, force: true})
})

test.skipIf(skip !== undefined)(`linux-arm64 agent under qemu: onboards, reports arm64, polls and reports a deployment installed${skip ? ` — skipped: ${skip}` : ''}`, async () => {
  if ('skip' in release) return
  const binary = join(release.dir, releaseFileName(pjson.version, 'linux-arm64'))
  server = await startServe(['--enrollment', 'auto'])
  const config = join(work, 'agent.yaml')
  writeFileSync(config, '{}\n')
  const agentOnce = () => {
    const r = Bun.spawnSync([QEMU!, '-L', SYSROOT, binary, 'agent', '--once', '--simulate-drivers', '--config', config, '--server', server!.url,
      '--ca-file', join(server!.dataDir, 'tls/ca.pem'), '--state-dir', join(work, 'state'), '--log-format', 'json'], {stdout: 'pipe', stderr: 'pipe'})
    return {code: r.exitCode, log: r.stderr.toString()}
  }

  const first = agentOnce()
  expect(first.log).toContain('onboarding.accepted')
  expect(first.log).toContain('capabilities.reported')
  expect(first.code).toBe(0)
  const devices = cli(server.dataDir, 'device', 'list', '--json').json<Array<{clientId: string, capabilities: unknown}>>()
  expect(devices).toHaveLength(1)
  expect(JSON.stringify(devices[0]!.capabilities)).toContain('"arm64"')

  expect(cli(server.dataDir, 'app', 'publish', HELLO_WORLD).code).toBe(0)
  const {deploymentId} = cli(server.dataDir, 'deploy', 'com-northstartida-hello-world', '--device', devices[0]!.clientId, '--profile', 'helm.v3', '--json').json<{deploymentId: string}>()

  const second = agentOnce()
  expect(second.log).toContain('sync.accepted')
  expect(second.code).toBe(0)
  const token = readFileSync(join(server.dataDir, 'operator-token'), 'utf8').trim()
  const res = await fetch(`${server.url}/operator/v1/deployments/${deploymentId}`, {tls: {ca: server.ca}, headers: {authorization: `Bearer ${token}`}})
  const view = (await res.json()) as {status: {state: string} | null}
  expect(view.status?.state).toBe('installed')
}, 240_000)
