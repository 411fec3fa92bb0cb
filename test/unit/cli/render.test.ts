import {describe, expect, test} from 'bun:test'
import {parameterRows, renderApp, renderAppList, renderPublishResult} from '../../../src/cli/render/apps.ts'
import {deploymentState, deploymentStateCell} from '../../../src/cli/render/states.ts'
import {deploymentTable, renderDeployment} from '../../../src/cli/render/deployments.ts'
import {renderDevice, renderDeviceList, renderEnrollmentChange} from '../../../src/cli/render/devices.ts'
import {renderDeployResult, renderUndeployResult} from '../../../src/cli/render/results.ts'
import {APP_ID, DEPLOYMENT_ID, DEVICE_ID, sampleApp, sampleDeployment, sampleDevice} from '../client/fake-operator.ts'

const now = new Date('2025-01-01T10:08:00.000Z')
const tty = {tty: true, color: false, now}
const pipe = {tty: false, color: false, now}

describe('deployment state', () => {
  test('unreported until the device reports; error code appended', () => {
    expect(deploymentState(sampleDeployment({status: null}))).toBe('unreported')
    expect(deploymentState(sampleDeployment())).toBe('installed')
    const failed = sampleDeployment({status: {state: 'failed', error: {code: 'image_pull', message: 'x'}, components: [], reportedAt: now.toISOString()}})
    expect(deploymentState(failed)).toBe('failed (image_pull)')
    expect(deploymentStateCell(failed)).toEqual({text: 'failed (image_pull)', style: 'red'})
  })
})

describe('devices', () => {
  const {deployments: _, ...device} = sampleDevice()
  test('list on a terminal', () => {
    const out = renderDeviceList([device], tty)
    expect(out.split('\n')[0]).toMatch(/^CLIENT ID\s+ENROLLMENT\s+DEVICE ID\s+LABELS\s+LAST SEEN\s+CERT EXPIRES$/)
    expect(out).toContain(DEVICE_ID)
    expect(out).toContain('site=plant-7')
    expect(out).toContain('2m ago')
  })
  test('list piped: one tab-separated row per device with ISO time', () => {
    expect(renderDeviceList([device], pipe)).toBe(
      `${DEVICE_ID}\tactive\tnorthstarida.xtapro.k8s.edge\tsite=plant-7\t2025-01-01T10:06:00.000Z\t2026-01-01T00:00:00.000Z`,
    )
  })
  test('empty list: a hint on a terminal, nothing piped', () => {
    expect(renderDeviceList([], tty)).toContain('no devices yet')
    expect(renderDeviceList([], pipe)).toBe('')
  })
  test('empty list on a terminal: one line that says how to start an agent against this server', () => {
    const out = renderDeviceList([], tty)
    expect(out.split('\n')).toHaveLength(1)
    expect(out).toContain('margo agent --server')
    expect(out).toContain('--ca-fingerprint')
    expect(out).toContain('margo serve')
  })
  test('show: enrollment, certificate, capabilities and deployments', () => {
    const out = renderDevice(sampleDevice(), tty)
    for (const s of ['Enrollment', 'active', 'sha256:cdcd', 'ec-p256', 'Capabilities (reported', 'Northstar Industrial Devices', '4 cores arm64', 'gpu NVIDIA', 'ethernet, wifi', 'Deployments', DEPLOYMENT_ID]) {
      expect(out).toContain(s)
    }
  })
  test('show: a pending device says how to approve it', () => {
    expect(renderDevice(sampleDevice({enrollment: 'pending'}), tty)).toContain(`pending approval — run: margo device approve ${DEVICE_ID}`)
  })
  test('show piped: key/value lines, deployments prefixed', () => {
    const lines = renderDevice(sampleDevice(), pipe).split('\n')
    expect(lines).toContain(`clientId\t${DEVICE_ID}`)
    expect(lines).toContain('capabilities.memory\t8Gi')
    expect(lines.find(l => l.startsWith('deployment\t'))).toStartWith(`deployment\t${DEPLOYMENT_ID}\t${APP_ID}`)
  })
  test('approve/revoke results', () => {
    expect(renderEnrollmentChange(sampleDevice({enrollment: 'active'}), tty)).toContain('is active')
    expect(renderEnrollmentChange(sampleDevice({enrollment: 'revoked'}), pipe)).toBe(`${DEVICE_ID}\trevoked`)
  })
})

describe('apps', () => {
  const app = sampleApp()
  test('list', () => {
    const {description: _, ...summary} = app
    expect(renderAppList([summary], pipe)).toBe(`${APP_ID}\tHello World\t1.1\t1.0,1.1\thelm.v3,compose\t2025-01-02T08:00:00.000Z`)
    expect(renderAppList([], tty)).toContain('margo app publish')
  })
  test('parameters join settings and schema', () => {
    expect(parameterRows(app.description)).toEqual([{name: 'greeting', default: 'Hello', type: 'string', immutable: true, label: 'Greeting'}])
  })
  test('show on a terminal: versions, profiles, parameters and a deploy hint', () => {
    const out = renderApp(app, tty)
    for (const s of ['1.1 (latest)', '1.0, 1.1', 'Northstar Industrial Applications', 'hello-helm', 'helm.v3', 'greeting', 'yes', `margo deploy ${APP_ID}@1.1 --device <clientId> --set greeting=`]) {
      expect(out).toContain(s)
    }
  })
  test('show piped', () => {
    const lines = renderApp(app, pipe).split('\n')
    expect(lines).toContain(`appId\t${APP_ID}`)
    expect(lines).toContain('profile\thello-compose\tcompose\thello')
    expect(lines).toContain('parameter\tgreeting\tHello\tstring\ttrue')
  })
  test('publish result', () => {
    expect(renderPublishResult({app, created: true}, tty)).toStartWith(`published ${APP_ID}@1.1`)
    expect(renderPublishResult({app, created: false}, tty)).toContain('already published')
    expect(renderPublishResult({app, created: false}, pipe)).toBe(`${APP_ID}\t1.1\tunchanged`)
  })
})

describe('deployments and status', () => {
  test('table without the device column for one device', () => {
    const out = deploymentTable([sampleDeployment()], tty, {withDevice: false})
    expect(out).not.toContain('DEVICE')
    expect(out.split('\n')[0]).toMatch(/^DEPLOYMENT\s+APP\s+VERSION\s+PROFILE\s+DESIRED\s+STATE\s+UPDATED$/)
  })
  test('one deployment with components and timeline', () => {
    const out = renderDeployment({...sampleDeployment(), timeline: [{at: '2025-01-01T10:01:00.000Z', state: 'installing', error: null, components: []}]}, tty)
    expect(out).toContain('Components')
    expect(out).toContain('Timeline')
    expect(out).toContain('7m ago')
  })
  test('deploy and undeploy results', () => {
    const d = sampleDeployment({status: null})
    const out = renderDeployResult(d, tty)
    expect(out).toContain(`deployment ${DEPLOYMENT_ID} created: ${APP_ID}@1.0 (compose) on device ${DEVICE_ID}`)
    expect(out).toContain('unreported')
    expect(out).toContain(`margo status --device ${DEVICE_ID}`)
    expect(renderDeployResult(d, pipe).split('\n')[0]).toBe(`deploymentId\t${DEPLOYMENT_ID}`)
    expect(renderUndeployResult(sampleDeployment({desired: 'absent'}), pipe)).toBe(`${DEPLOYMENT_ID}\tabsent`)
  })
})
