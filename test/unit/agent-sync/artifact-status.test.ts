import {describe, expect, test} from 'bun:test'
import {checkDeploymentYaml, DIGEST_MISMATCH_FIELD} from '../../../src/agent/sync/artifact.ts'
import {buildStatusReport, STATUS_API_VERSION} from '../../../src/agent/sync/status-report.ts'
import {sha256Digest} from '../../../src/margo/digest.ts'
import {parseDeploymentStatus} from '../../../src/margo/status.ts'
import {ID_A, ID_B, deploymentYaml} from './helpers.ts'

describe('ApplicationDeployment YAML checks', () => {
  const yaml = deploymentYaml(ID_A)

  test('CL-20: bytes matching their digest and naming their deployment are accepted', () => {
    const r = checkDeploymentYaml(yaml, {deploymentId: ID_A, digest: sha256Digest(yaml)})
    expect(r.ok).toBe(true)
    if (r.ok) expect(r.value.spec.deploymentProfile.components.map(c => c.name)).toEqual(['db', 'web'])
  })

  test('CL-21, §2.2 Exact Bytes Rule: one changed byte (even a newline) is a digest mismatch', () => {
    const crlf = new TextEncoder().encode(new TextDecoder().decode(yaml).replace(/\n/g, '\r\n'))
    const r = checkDeploymentYaml(crlf, {deploymentId: ID_A, digest: sha256Digest(yaml)})
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.errors[0]!.field).toBe(DIGEST_MISMATCH_FIELD)
  })

  test('§2.5.9: the YAML must carry the deploymentId it was fetched for', () => {
    const other = deploymentYaml(ID_B)
    const r = checkDeploymentYaml(other, {deploymentId: ID_A, digest: sha256Digest(other)})
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.errors[0]!.field).toBe('metadata.annotations.id')
  })

  test('an invalid document with a matching digest reports document errors, not a digest error', () => {
    const bad = new TextEncoder().encode('kind: ApplicationDeployment\n')
    const r = checkDeploymentYaml(bad, {deploymentId: ID_A, digest: sha256Digest(bad)})
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.errors.some(e => e.field === DIGEST_MISMATCH_FIELD)).toBe(false)
  })
})

describe('status reports', () => {
  const timeout = {code: 'HELM_TIMEOUT', message: 'web not ready after 5m'}

  test('CL-29, CL-30: one entry per component, valid against the status schema', () => {
    const r = buildStatusReport(ID_A, [{name: 'db', state: 'installed'}, {name: 'web', state: 'installing'}])
    expect(r).toEqual({
      apiVersion: STATUS_API_VERSION,
      kind: 'DeploymentStatusManifest',
      deploymentId: ID_A,
      status: {state: 'installing'},
      components: [{name: 'db', state: 'installed'}, {name: 'web', state: 'installing'}],
    })
    expect(parseDeploymentStatus(JSON.parse(JSON.stringify(r))).ok).toBe(true)
  })

  test('CL-31, A8: the overall state is the most severe: failed > removing > installing > pending > removed > installed', () => {
    const overall = (...states: Parameters<typeof buildStatusReport>[1][number]['state'][]) =>
      buildStatusReport(ID_A, states.map((state, i) => ({name: `c${i}`, state, ...(state === 'failed' && {error: timeout})}))).status.state
    expect(overall('installed', 'failed', 'removing')).toBe('failed')
    expect(overall('installing', 'removing')).toBe('removing')
    expect(overall('pending', 'installing')).toBe('installing')
    expect(overall('removed', 'pending')).toBe('pending')
    expect(overall('installed', 'removed')).toBe('removed')
    expect(overall('installed', 'installed')).toBe('installed')
    expect(overall('removed', 'removed')).toBe('removed')
  })

  test('CL-32: a failed report carries the first failed component error', () => {
    const r = buildStatusReport(ID_A, [{name: 'db', state: 'installed'}, {name: 'web', state: 'failed', error: timeout}, {name: 'x', state: 'failed', error: {code: 'OTHER', message: 'm'}}])
    expect(r.status).toEqual({state: 'failed', error: timeout})
    expect(r.components[1]).toEqual({name: 'web', state: 'failed', error: timeout})
  })

  test('CL-32: a failure without detail still carries a code and message', () => {
    const r = buildStatusReport(ID_A, [{name: 'db', state: 'failed'}])
    expect(r.status.error?.code).toBeTruthy()
    expect(r.status.error?.message).toBeTruthy()
  })

  test('CL-32: a deployment-level error fails the deployment', () => {
    const err = {code: 'INVALID_DEPLOYMENT', message: 'unsupported profile'}
    expect(buildStatusReport(ID_A, [], err).status).toEqual({state: 'failed', error: err})
  })

  test('A27: error is omitted unless failed, on the deployment and on components', () => {
    const r = buildStatusReport(ID_A, [{name: 'db', state: 'installing', error: {code: '', message: ''}}])
    expect('error' in r.status).toBe(false)
    expect('error' in r.components[0]!).toBe(false)
    const blank = buildStatusReport(ID_A, [{name: 'db', state: 'failed', error: {code: '', message: ''}}])
    expect(blank.status.error?.code).toBeTruthy()
    expect('error' in blank.components[0]!).toBe(false)
  })
})
