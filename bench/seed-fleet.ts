/**
 * A fleet for the data benchmarks, written straight into a harness's store: N active devices with
 * labels and capabilities, the sample app deployed to all of them by one rollout, and one
 * `installed` report each.
 */
import {readFileSync} from 'node:fs'
import {createRolloutService} from '../src/server/rollouts/rollout-service.ts'
import {recordStatusReport} from '../src/server/store/status-repo.ts'
import {capabilitiesBody, HELLO_WORLD, type Harness} from '../test/server/harness.ts'

export async function seedFleet(h: Harness, devices: number, {certificatePem = '-'}: {certificatePem?: string} = {}) {
  const now = () => new Date()
  const caps = JSON.stringify(capabilitiesBody('bench'))
  h.store.transaction(() => {
    for (let i = 0; i < devices; i++) {
      const id = `bench-${i}`
      h.store.insertClient({clientId: id, fingerprint: `sha256:${id}`, certificatePem, subject: id, keyType: 'p256', notAfter: '2030-01-01T00:00:00Z', enrollment: 'active', onboardedAt: now().toISOString()})
      h.store.setLabels(id, {fleet: 'b'})
      h.store.setCapabilities(id, caps, now().toISOString())
    }
  })
  if ((await h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'})).status !== 201) throw new Error('publish failed')
  createRolloutService({store: h.store, events: {emit: () => {}}, now}).create({appId: 'com-northstartida-hello-world', selector: 'fleet=b', profile: 'compose'})
  const at = now().toISOString()
  h.store.transaction(() => {
    for (const d of h.store.listDeployments({desired: 'present'})) {
      recordStatusReport(h.store, {deploymentId: d.deploymentId, clientId: d.clientId, state: 'installed', errorJson: null, componentsJson: '[]', receivedAt: at}, 100)
    }
  })
}
