import {describe, expect, test} from 'bun:test'
import {aggregateState, checkComponents, DEPLOYMENT_STATES, parseDeploymentStatus, type DeploymentState} from '../../../src/margo/status.ts'
import {clone, STATUS_EXAMPLE} from './fixtures.ts'

const ID = 'a3e2f5dc-912e-494f-8395-52cf3769bc06'
const fieldsOf = (json: unknown) => {
  const r = parseDeploymentStatus(json)
  if (r.ok) throw new Error('expected the status to be rejected')
  return r.errors.map(e => e.field)
}

describe('WFM-39 / CL-29: DeploymentStatusManifest', () => {
  test('the spec §4.2 example is accepted as sent', () => {
    const r = parseDeploymentStatus(STATUS_EXAMPLE)
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.value.deploymentId).toBe(ID)
    expect(r.value.status).toEqual({state: 'failed', error: {code: 'HELM_TIMEOUT', message: 'digitron-orchestrator not ready after 8m30s'}})
    expect(r.value.components).toEqual(STATUS_EXAMPLE.components as never)
  })

  test('the conformance status bodies (installed, one component) are accepted', () => {
    const body = {apiVersion: 'deployment.margo.org/v1alpha1', kind: 'DeploymentStatusManifest', deploymentId: ID, status: {state: 'installed'}, components: [{name: 'app-component-1', state: 'installed'}]}
    expect(parseDeploymentStatus(body).ok).toBe(true)
  })

  test('CL-30: "__invalid_state__" and "done" are rejected at status.state', () => {
    const body = {apiVersion: 'deployment.margo.org/v1alpha1', kind: 'DeploymentStatusManifest', deploymentId: ID, status: {state: '__invalid_state__'}, components: [{name: 'component-1', state: 'installed'}]}
    expect(fieldsOf(body)).toEqual(['status.state'])
    expect(fieldsOf({...body, status: {state: 'done'}})).toEqual(['status.state'])
  })

  test('CL-30: states are exact lowercase', () => {
    const body = clone(STATUS_EXAMPLE) as any
    body.status = {state: 'Installed'}
    body.components[0].state = 'INSTALLED'
    expect(fieldsOf(body)).toEqual(['status.state', 'components[0].state'])
    for (const state of DEPLOYMENT_STATES) {
      expect(parseDeploymentStatus({...clone(STATUS_EXAMPLE), status: {state}}).ok).toBe(true)
    }
  })

  test('a component without a name, a non-UUID deploymentId and a wrong kind are each reported', () => {
    const body = clone(STATUS_EXAMPLE) as any
    body.components = [{state: 'installed'}]
    body.deploymentId = 'another-deployment'
    body.kind = 'DeploymentStatus'
    expect(fieldsOf(body)).toEqual(['kind', 'deploymentId', 'components[0].name'])
  })

  test('status, components, apiVersion and deploymentId are required', () => {
    expect(fieldsOf({kind: 'DeploymentStatusManifest'})).toEqual(['apiVersion', 'deploymentId', 'status', 'components'])
    expect(fieldsOf({...clone(STATUS_EXAMPLE), components: {}})).toEqual(['components'])
    expect(fieldsOf('installed')).toEqual([''])
  })

  test('A27: an error with empty strings counts as absent', () => {
    const body = clone(STATUS_EXAMPLE) as any
    body.status = {state: 'pending', error: {code: '', message: ''}}
    body.components[0].error = {code: '', message: ''}
    const r = parseDeploymentStatus(body)
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.value.status).toEqual({state: 'pending'})
    expect(r.value.components[0]).toEqual({name: 'database-services', state: 'installed'})
  })

  test('an error with a message but no code is rejected; a numeric code is read as text', () => {
    const body = clone(STATUS_EXAMPLE) as any
    body.status.error = {code: '', message: 'boom'}
    expect(fieldsOf(body)).toEqual(['status.error.code'])
    body.status.error = {code: 101, message: 'Unknown child device ID', source: 'gw-1'}
    const r = parseDeploymentStatus(body)
    expect(r.ok && r.value.status.error).toEqual({code: '101', message: 'Unknown child device ID'})
  })

  test('later additions (deviceId, adoptedManifestVersion, extensions) are ignored', () => {
    expect(parseDeploymentStatus({...clone(STATUS_EXAMPLE), deviceId: 'gw/a', adoptedManifestVersion: 4, 'x-acme-extensions': {}}).ok).toBe(true)
  })
})

describe('A8 / CL-31: overall state is the most severe component state', () => {
  const cases: [DeploymentState[], DeploymentState][] = [
    [['installed', 'installed'], 'installed'],
    [['installed', 'failed', 'removing'], 'failed'],
    [['installing', 'removing'], 'removing'],
    [['pending', 'installing', 'installed'], 'installing'],
    [['installed', 'pending'], 'pending'],
    [['removed', 'pending'], 'pending'],
    [['removed', 'removed'], 'removed'],
    [['installed', 'removed'], 'removed'],
    [[], 'pending'],
  ]
  for (const [states, expected] of cases) {
    test(`[${states.join(', ')}] -> ${expected}`, () => expect(aggregateState(states)).toBe(expected))
  }
})

describe('spec §4.2: one components entry per component of the deployment', () => {
  const at = (state: DeploymentState, names: string[], error?: {code: string, message: string}) =>
    ({status: error ? {state, error} : {state}, components: names.map(name => ({name, state}))})
  const fields = (errors: {field: string}[]) => errors.map(e => e.field)

  test('exactly the components of one known version, in any order', () => {
    expect(checkComponents(at('installed', ['b', 'a']), [['a', 'b']])).toEqual([])
    expect(checkComponents(at('installed', ['old']), [['new'], ['old']])).toEqual([])
    expect(checkComponents(at('installed', ['anything']), [])).toEqual([])
  })

  test('unknown, missing and repeated names are named, against the newest version', () => {
    expect(fields(checkComponents(at('installed', ['a', 'x']), [['a', 'b'], ['a']]))).toEqual(['components[1].name', 'components'])
    expect(fields(checkComponents(at('installed', ['a', 'a', 'b']), [['a', 'b']]))).toEqual(['components[1].name'])
    expect(fields(checkComponents(at('pending', []), [['a']]))).toEqual(['components'])
  })

  test('no components only where the device cannot name them: failed with an error, or removed', () => {
    expect(checkComponents(at('failed', [], {code: 'INVALID_DEPLOYMENT', message: 'x'}), [['a']])).toEqual([])
    expect(checkComponents(at('removed', []), [['a']])).toEqual([])
    expect(fields(checkComponents(at('failed', []), [['a']]))).toEqual(['components'])
  })
})
