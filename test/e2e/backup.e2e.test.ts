import {afterAll, expect, test} from 'bun:test'
import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {HELLO_WORLD} from '../server/harness.ts'
import {acceptedVersions, cli, eventually, margoScript, operatorApi, startAgent, startServe} from './binary.ts'

const work = mkdtempSync(join(tmpdir(), 'margo-backup-e2e-'))
const running: {stop(): Promise<number>}[] = []
afterAll(async () => {
  for (const p of running) await p.stop().catch(() => 0)
  rmSync(work, {recursive: true, force: true})
})

const passphraseFile = join(work, 'passphrase')
writeFileSync(passphraseFile, 'backup passphrase for the e2e test\n', {mode: 0o600})

test('backup while serving, restore into a new dir, serve from it: the device keeps its clientId, its deployment and its trust in the server', async () => {
  let server = await startServe(['--enrollment', 'auto', '--workers', '2'])
  running.push({stop: () => server.stop()})
  const port = server.port
  expect(cli(server.dataDir, 'app', 'publish', HELLO_WORLD).code).toBe(0)
  const agent = startAgent(server, join(work, 'agent'), {}, ['--simulate-drivers'])
  running.push({stop: () => agent.stop()})
  const clientId = await eventually('the device to onboard', () => {
    const devices = cli(server.dataDir, 'device', 'list', '--json').json<{clientId: string, capabilities: unknown}[]>()
    return devices[0]?.capabilities ? devices[0].clientId : undefined
  })
  const kept = cli(server.dataDir, 'deploy', 'com-northstartida-hello-world', '--device', clientId, '--json').json<{deploymentId: string}>()
  await eventually('the first deployment installed', async () => (await operatorApi<{status: {state: string} | null}>(server, `/deployments/${kept.deploymentId}`)).status?.state === 'installed' || undefined)

  // Online: two serve processes and the agent keep working while the backup is taken.
  const file = join(work, 'fleet.mbk')
  const backup = margoScript(['backup', file, '--data-dir', server.dataDir, '--passphrase-file', passphraseFile])
  expect(backup.stderr).toBe('')
  expect(backup.code).toBe(0)
  expect(backup.stdout).toContain(`${file}\t`)
  expect(statSync(file).mode & 0o777).toBe(0o600)
  expect(readFileSync(file).includes(Buffer.from('BEGIN'))).toBe(false)

  // After the backup the fleet moves on: the device accepts a newer manifest than the backup holds.
  const later = await operatorApi<{deploymentId: string}>(server, '/deployments', {appId: 'com-northstartida-hello-world', clientId, profile: 'helm.v3', values: {greeting: 'after the backup'}})
  await eventually('the device to accept version 3', () => acceptedVersions(agent).includes(3) || undefined)
  await server.stop()

  // Refusals, each one line: no passphrase without a terminal, wrong passphrase, altered file, a data dir in use.
  const target = join(work, 'restored')
  const noKey = margoScript(['restore', file, '--data-dir', target], {MARGO_BACKUP_PASSPHRASE: ''})
  expect(noKey.code).toBe(2)
  expect(noKey.stderr).toMatch(/^error: no passphrase: give --passphrase-file FILE, --key-file FILE or MARGO_BACKUP_PASSPHRASE \(standard input is not a terminal to ask on\)\n/)
  const wrong = margoScript(['restore', file, '--data-dir', target], {MARGO_BACKUP_PASSPHRASE: 'not the passphrase'})
  expect(wrong.code).toBe(1)
  expect(wrong.stderr.trim().split('\n')).toEqual(['error: wrong passphrase for this backup'])
  const altered = readFileSync(file)
  altered[Math.floor(altered.length / 2)]! ^= 1
  writeFileSync(join(work, 'altered.mbk'), altered)
  const tampered = margoScript(['restore', join(work, 'altered.mbk'), '--data-dir', target, '--passphrase-file', passphraseFile])
  expect(tampered.code).toBe(1)
  expect(tampered.stderr).toContain('altered or damaged')
  const occupied = margoScript(['restore', file, '--data-dir', server.dataDir, '--passphrase-file', passphraseFile])
  expect(occupied.code).toBe(2)
  expect(occupied.stderr).toMatch(/^error: refusing to restore into \S+: it is not empty \(\d+ entries\) — restore into a new or empty directory\n/)

  const restore = margoScript(['restore', file, '--data-dir', target, '--passphrase-file', passphraseFile])
  expect(restore.stderr).toBe('')
  expect(restore.code).toBe(0)
  const floor = Number(restore.stdout.trim().split('\t')[4])
  expect(floor).toBeGreaterThan(1e15)
  for (const secret of ['margo.db', 'tls/ca.key', 'tls/server.key', 'operator-token', 'secret.key']) expect(statSync(join(target, secret)).mode & 0o777).toBe(0o600)

  // The restored server on the same address: the agent (which never stopped polling) goes on with it.
  server = await startServe(['--enrollment', 'auto'], target, `127.0.0.1:${port}`)
  await eventually('the device to accept the restored server\'s manifest', () => acceptedVersions(agent).some(v => v >= floor) || undefined, 30000)
  const devices = cli(target, 'device', 'list', '--json').json<{clientId: string}[]>()
  expect(devices.map(d => d.clientId)).toEqual([clientId])
  const {deployments} = await operatorApi<{deployments: {deploymentId: string}[]}>(server, `/deployments?clientId=${clientId}`)
  expect(deployments.map(d => d.deploymentId)).toEqual([kept.deploymentId])
  // The deployment made after the backup is not in the restored desired state; the agent removes it.
  await agent.waitForLog(new RegExp(`"deploy.removed".*${later.deploymentId}|${later.deploymentId}.*"deploy.removed"`))
  await eventually('the kept deployment reported installed to the restored server', async () => (await operatorApi<{status: {state: string} | null}>(server, `/deployments/${kept.deploymentId}`)).status?.state === 'installed' || undefined)
  expect(agent.log()).not.toContain('sync.rejected_rollback')
  expect(agent.log()).not.toContain('"securityEvent":true')
}, 120000)
