import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parse} from 'yaml'
import {createHelmDriver} from '../../../src/agent/drivers/helm-driver.ts'
import {deployment, FAKE_HELM, recorder, Sandbox} from './helpers.ts'

let box: Sandbox
beforeEach(() => {
  box = new Sandbox()
})
afterEach(() => box.cleanup())

const db = {name: 'database-services', properties: {repository: 'oci://quay.io/charts/realtime-database-services', revision: '2.3.7', timeout: '8m30s'}}
const orch = {name: 'digitron-orchestrator', properties: {repository: 'oci://northstarida.azurecr.io/charts/northstarida-digitron-orchestrator', revision: '1.0.9'}}
const params = {pollFrequency: {value: 120, targets: [{pointer: 'settings.pollFrequency', components: ['digitron-orchestrator', 'database-services']}]}}

describe('helm driver', () => {
  test('CL-25: components install in order with the exact command lines; installing is reported before each', async () => {
    const d = deployment('helm.v3', [db, orch], params)
    const {events, listener} = recorder()
    const results = await createHelmDriver().apply(d, box.ctx(), listener)
    expect(results).toEqual([{name: 'database-services', state: 'installed'}, {name: 'digitron-orchestrator', state: 'installed'}])
    expect(events.map(e => `${e.name}:${e.state}`)).toEqual(['database-services:installing', 'database-services:installed', 'digitron-orchestrator:installing', 'digitron-orchestrator:installed'])
    const dbValues = join(box.workDir, 'database-services', 'values.yaml')
    const orchValues = join(box.workDir, 'digitron-orchestrator', 'values.yaml')
    expect(box.commands()).toEqual([
      ['helm', 'upgrade', '--install', 'database-services', 'oci://quay.io/charts/realtime-database-services', '--version', '2.3.7', '--namespace', 'margo-poc', '--create-namespace', '--reset-values', '-f', dbValues, '--wait', '--timeout', '8m30s'],
      ['helm', 'upgrade', '--install', 'digitron-orchestrator', 'oci://northstarida.azurecr.io/charts/northstarida-digitron-orchestrator', '--version', '1.0.9', '--namespace', 'margo-poc', '--create-namespace', '--reset-values', '-f', orchValues, '--wait'],
    ])
    expect(parse(readFileSync(orchValues, 'utf8'), {version: '1.1'})).toEqual({settings: {pollFrequency: 120}})
  })

  test('CL-25: with wait, a slow component finishes before the next one starts', async () => {
    box.env({MARGO_FAKE_DELAY: '0.3'})
    const d = deployment('helm.v3', [db, orch])
    const starts: number[] = []
    const ends: number[] = []
    await createHelmDriver().apply(d, box.ctx(), r => (r.state === 'installing' ? starts : ends).push(Date.now()))
    expect(starts[1]!).toBeGreaterThanOrEqual(ends[0]!)
    expect(ends[0]! - starts[0]!).toBeGreaterThanOrEqual(250)
  })

  test('the fakes read their delay from MARGO_FAKE_DELAY_FILE at every call', async () => {
    const delayFile = join(box.root, 'delay')
    box.env({MARGO_FAKE_DELAY_FILE: delayFile})
    writeFileSync(delayFile, '0.3\n')
    const started = Date.now()
    await createHelmDriver().apply(deployment('helm.v3', [orch]), box.ctx())
    expect(Date.now() - started).toBeGreaterThanOrEqual(280)
  })

  test('a failing component is failed with HELM_INSTALL_FAILED and helm stderr; later components stay pending', async () => {
    box.env({MARGO_FAKE_HELM_FAIL: 'database-services'})
    const d = deployment('helm.v3', [db, orch])
    const results = await createHelmDriver().apply(d, box.ctx())
    expect(results[0]).toMatchObject({name: 'database-services', state: 'failed', error: {code: 'HELM_INSTALL_FAILED'}})
    expect(results[0]!.error!.message).toContain('UPGRADE FAILED')
    expect(results[1]).toEqual({name: 'digitron-orchestrator', state: 'pending'})
    expect(box.commands()).toHaveLength(1)
  })

  test("helm's own timeout is reported as HELM_TIMEOUT", async () => {
    box.env({MARGO_FAKE_HELM_TIMEOUT: 'digitron-orchestrator'})
    const results = await createHelmDriver().apply(deployment('helm.v3', [db, orch]), box.ctx())
    expect(results.map(r => r.state)).toEqual(['installed', 'failed'])
    expect(results[1]!.error?.code).toBe('HELM_TIMEOUT')
  })

  test('a helm that hangs past timeout plus grace is killed and reported as HELM_TIMEOUT', async () => {
    box.env({MARGO_FAKE_DELAY: '20'})
    const d = deployment('helm.v3', [{name: 'slow', properties: {repository: 'oci://r/slow', revision: '1', timeout: '1s'}}])
    const started = Date.now()
    const results = await createHelmDriver({killGraceSeconds: 0}).apply(d, box.ctx())
    expect(results[0]!.error?.code).toBe('HELM_TIMEOUT')
    expect(Date.now() - started).toBeLessThan(5000)
  })

  test('a missing helm fails the first component with HELM_NOT_FOUND instead of throwing', async () => {
    const d = deployment('helm.v3', [db, orch])
    const results = await createHelmDriver({path: '/nonexistent'}).apply(d, box.ctx({binaries: {}}))
    expect(results).toEqual([
      {name: 'database-services', state: 'failed', error: {code: 'HELM_NOT_FOUND', message: expect.stringContaining('not found on PATH')}},
      {name: 'digitron-orchestrator', state: 'pending'},
    ])
    const configured = await createHelmDriver().apply(d, box.ctx({binaries: {helm: '/nonexistent/helm'}}))
    expect(configured[0]!.error?.message).toContain('/nonexistent/helm')
  })

  test('the host change is announced before helm upgrade starts, and only then', async () => {
    box.env({MARGO_FAKE_HELM_FAIL: 'database-services'})
    const seen: number[] = []
    const changingHost = () => seen.push(box.commands().length)
    await createHelmDriver().apply(deployment('helm.v3', [db]), box.ctx({changingHost}))
    expect(seen).toEqual([0])
    seen.length = 0
    await createHelmDriver({path: '/nonexistent'}).apply(deployment('helm.v3', [db]), box.ctx({binaries: {}, changingHost}))
    await createHelmDriver().apply(deployment('helm.v3', [{name: 'bad', properties: {repository: 'oci://x/y', revision: '1'}}], {p: {value: 1, targets: [{pointer: 'a[0', components: ['bad']}]}}), box.ctx({changingHost}))
    expect(seen).toEqual([])
  })

  test('helm is found on PATH when no path is configured', async () => {
    const results = await createHelmDriver({path: join(FAKE_HELM, '..')}).apply(deployment('helm.v3', [orch]), box.ctx({binaries: {}}))
    expect(results[0]!.state).toBe('installed')
  })

  test('a deployment without a namespace installs into the default namespace', async () => {
    await createHelmDriver().apply(deployment('helm.v3', [orch], undefined, null), box.ctx())
    expect(box.commands()[0]).toContain('margo')
    expect(box.commands()[0]!.slice(box.commands()[0]!.indexOf('--namespace'), box.commands()[0]!.indexOf('--namespace') + 2)).toEqual(['--namespace', 'margo'])
  })

  test('status asks helm and maps release states; a missing release is removed', async () => {
    const driver = createHelmDriver()
    const d = deployment('helm.v3', [db, orch])
    expect(await driver.status(d, box.ctx())).toEqual([{name: 'database-services', state: 'removed'}, {name: 'digitron-orchestrator', state: 'removed'}])
    await driver.apply(d, box.ctx())
    expect(await driver.status(d, box.ctx())).toEqual([{name: 'database-services', state: 'installed'}, {name: 'digitron-orchestrator', state: 'installed'}])
    box.env({MARGO_FAKE_HELM_STATUS: 'pending-upgrade'})
    expect((await driver.status(d, box.ctx()))[0]!.state).toBe('installing')
    box.env({MARGO_FAKE_HELM_STATUS: 'failed'})
    expect((await driver.status(d, box.ctx()))[0]).toMatchObject({state: 'failed', error: {code: 'HELM_INSTALL_FAILED'}})
    expect(box.commands().at(-1)).toEqual(['helm', 'status', 'digitron-orchestrator', '--namespace', 'margo-poc', '-o', 'json'])
  })

  test('removal goes in reverse order, reporting removing then removed', async () => {
    const driver = createHelmDriver()
    const d = deployment('helm.v3', [db, {...orch, properties: {...orch.properties, wait: false}}])
    await driver.apply(d, box.ctx())
    const {events, listener} = recorder()
    const results = await driver.remove(d, box.ctx(), listener)
    expect(results).toEqual([{name: 'database-services', state: 'removed'}, {name: 'digitron-orchestrator', state: 'removed'}])
    expect(events.map(e => `${e.name}:${e.state}`)).toEqual(['digitron-orchestrator:removing', 'digitron-orchestrator:removed', 'database-services:removing', 'database-services:removed'])
    expect(box.commands(l => l.argv[0] === 'uninstall')).toEqual([
      ['helm', 'uninstall', 'digitron-orchestrator', '--namespace', 'margo-poc'],
      ['helm', 'uninstall', 'database-services', '--namespace', 'margo-poc', '--wait', '--timeout', '8m30s'],
    ])
  })

  test('removing a release that is already gone succeeds; a failing uninstall fails only its component', async () => {
    const driver = createHelmDriver()
    const d = deployment('helm.v3', [db, orch])
    await driver.apply(deployment('helm.v3', [orch]), box.ctx())
    box.env({MARGO_FAKE_HELM_FAIL_UNINSTALL: 'digitron-orchestrator'})
    const results = await driver.remove(d, box.ctx())
    expect(results[0]).toEqual({name: 'database-services', state: 'removed'})
    expect(results[1]).toMatchObject({name: 'digitron-orchestrator', state: 'failed', error: {code: 'HELM_UNINSTALL_FAILED'}})
  })

  test('applying again upgrades the same releases', async () => {
    const driver = createHelmDriver()
    const d = deployment('helm.v3', [orch])
    await driver.apply(d, box.ctx())
    await driver.apply(d, box.ctx())
    const status = JSON.parse(readFileSync(join(box.stateDir, 'helm', 'margo-poc', 'digitron-orchestrator'), 'utf8').replace(/^(\w+)=(.*)$/gm, '"$1":"$2",').replace(/,\s*$/, '').replace(/^/, '{').concat('}')) as {revision: string}
    expect(status.revision).toBe('2')
  })

  test('a bad values pointer fails the component before helm runs', async () => {
    const d = deployment('helm.v3', [orch], {p: {value: 1, targets: [{pointer: 'a..b', components: ['digitron-orchestrator']}]}})
    const results = await createHelmDriver().apply(d, box.ctx())
    expect(results[0]!.error?.code).toBe('HELM_VALUES_INVALID')
    expect(box.commands()).toEqual([])
  })
})
