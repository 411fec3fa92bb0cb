import {expect, test} from 'bun:test'
import {capabilitiesBody, HELLO_WORLD, statusBody, TestDevice} from '../server/harness.ts'
import {cli, startServe} from './binary.ts'

test('SIGKILL during a burst of status posts loses no acknowledged report', async () => {
  const server = await startServe(['--enrollment', 'auto'])
  const device = await TestDevice.create(server.transport())
  await device.onboard()
  await device.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody()})
  expect(cli(server.dataDir, 'app', 'publish', HELLO_WORLD).code).toBe(0)
  const deploymentId = cli(server.dataDir, 'deploy', 'com-northstartida-hello-world', '--device', device.clientId, '--json').json<{deploymentId: string}>().deploymentId
  const path = `/api/v1/clients/{clientId}/deployments/${deploymentId}/status`

  // Each report carries a unique error message so it can be found again after the restart.
  // At most 150 are sent, well inside the 200 entries a timeline returns.
  const acknowledged: string[] = []
  let sent = 0
  const sender = async () => {
    while (sent < 150) {
      const marker = `report-${sent++}`
      const body = {...statusBody(deploymentId, 'failed'), status: {state: 'failed', error: {code: 'BURST', message: marker}}}
      try {
        const res = await device.send('POST', path, {body})
        if (res.status === 200) acknowledged.push(marker)
      } catch {
        return // the server is gone
      }
    }
  }
  const senders = Array.from({length: 8}, sender)
  while (acknowledged.length < 40 && sent < 150) await Bun.sleep(2)
  server.proc.kill('SIGKILL')
  await Promise.all(senders)
  await server.proc.exited
  expect(acknowledged.length).toBeGreaterThanOrEqual(40)

  const restarted = await startServe(['--enrollment', 'auto'], server.dataDir)
  try {
    const token = (await Bun.file(`${restarted.dataDir}/operator-token`).text()).trim()
    const api = await fetch(`${restarted.url}/operator/v1/deployments/${deploymentId}`, {headers: {authorization: `Bearer ${token}`}, tls: {ca: restarted.ca}})
    expect(api.status).toBe(200)
    const view = (await api.json()) as {timeline: {error: {message: string} | null}[]}
    const stored = new Set(view.timeline.map(e => e.error?.message))
    expect(acknowledged.filter(m => !stored.has(m))).toEqual([])
  } finally {
    await restarted.stop()
  }
}, 60000)
