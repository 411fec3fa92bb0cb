import {describe, expect, test} from 'bun:test'
import {readFileSync} from 'node:fs'
import {parseApplicationDescription} from '../../../src/margo/package/description.ts'
import type {ApplicationDescription} from '../../../src/margo/package/types.ts'
import type {RolloutRecord} from '../../../src/server/store/rollouts-repo.ts'
import {inScope, planDevice, type DeviceFacts, type ExistingDeployment, type PlanInput} from '../../../src/server/rollouts/plan.ts'
import {HELLO_WORLD} from '../../server/harness.ts'

const parsed = parseApplicationDescription(readFileSync(HELLO_WORLD, 'utf8'))
if (!parsed.ok) throw new Error('fixture invalid')
const description: ApplicationDescription = parsed.value
const app = {appId: description.metadata.id, version: '1.0', description}

const rollout = (over: Partial<RolloutRecord> = {}): RolloutRecord => ({
  rolloutId: 'r1', name: 'hello', revision: 1, appId: app.appId, appVersion: null, selector: 'site=a', devices: [], profile: null, values: {},
  createdAt: 't0', updatedAt: 't0', deleted: false, ...over,
})
const standalone: DeviceFacts = {clientId: 'd1', enrollment: 'active', labels: {site: 'a'}, view: {deploymentTypes: ['compose'], memoryBytes: 8 * 2 ** 30}}
let ids = 0
const plan = (over: Partial<PlanInput> = {}) => planDevice({
  rollout: rollout(), device: standalone, app, existing: [], adopt: false, now: 't1', newDeploymentId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`, ...over,
})

/** A deployment as a create decision would have stored it. */
function stored(rolloutId: string | null, values: Record<string, unknown> = {}): ExistingDeployment {
  const d = plan({rollout: rollout({values})})
  if (d.action !== 'create') throw new Error(d.action)
  return {deployment: d.record, rolloutId}
}

describe('scope', () => {
  test('a selector rollout covers matching labels; a listed one its list', () => {
    expect(inScope(rollout(), standalone)).toBe(true)
    expect(inScope(rollout({selector: 'site=b'}), standalone)).toBe(false)
    expect(inScope(rollout({selector: ''}), {clientId: 'x', labels: {}})).toBe(true)
    expect(inScope(rollout({selector: null, devices: ['d1']}), standalone)).toBe(true)
    expect(inScope(rollout({selector: null, devices: ['d2']}), standalone)).toBe(false)
  })
})

describe('planDevice', () => {
  test('a matching device without the app gets a new deployment with the profile it runs and the defaults', () => {
    const d = plan()
    expect(d.action).toBe('create')
    if (d.action !== 'create') return
    expect(d.record).toMatchObject({profileType: 'compose', appVersion: '1.0', desired: 'present'})
    expect(JSON.parse(d.record.valuesJson).resolved).toEqual({greeting: 'Hello', siteId: 'SID-1', replicas: 1})
    expect(new TextDecoder().decode(d.bytes)).toContain('kind: ApplicationDeployment')
  })

  test('out of scope: its own deployment is removed, another one is left alone', () => {
    const away = {...standalone, labels: {site: 'b'}}
    expect(plan({device: away, existing: [stored('r1')]}).action).toBe('remove')
    expect(plan({device: away, existing: [stored('r2')]}).action).toBe('none')
  })

  test('a deployment another rollout runs is never taken, also not by an explicit deploy; a direct one is adopted only then', () => {
    const other = {...stored('r2'), rolloutName: 'canary'}
    const skipped = plan({existing: [other]})
    expect(skipped).toMatchObject({action: 'skip', kind: 'owned'})
    if (skipped.action === 'skip') expect(skipped.reason).toContain('of rollout canary, which keeps it')
    expect(plan({existing: [other], adopt: true})).toMatchObject({action: 'skip', kind: 'owned'})
    expect(plan({existing: [stored(null)]})).toMatchObject({action: 'skip', reason: expect.stringContaining('a direct deploy')})
    const adopted = plan({existing: [stored(null)], adopt: true})
    expect(adopted).toMatchObject({action: 'unchanged', relink: true})
  })

  test('one rollout per app and device: another rollout\'s helm deployment blocks a compose one too', () => {
    const helm = plan({rollout: rollout({profile: 'helm.v3'})})
    if (helm.action !== 'create') throw new Error(helm.action)
    expect(plan({existing: [{deployment: helm.record, rolloutId: 'r2'}], adopt: true}).action).toBe('skip')
    // A direct helm deployment is a different workload from the compose one the rollout makes.
    expect(plan({existing: [{deployment: helm.record, rolloutId: null}], adopt: true}).action).toBe('create')
  })

  test('own deployment: same values unchanged, new values update in place with the same id', () => {
    const mine = stored('r1')
    expect(plan({existing: [mine]})).toMatchObject({action: 'unchanged', relink: false})
    const d = plan({existing: [mine], rollout: rollout({values: {greeting: 'Hi'}})})
    expect(d.action).toBe('update')
    if (d.action !== 'update') return
    expect(d.record.deploymentId).toBe(mine.deployment.deploymentId)
    expect(d.record.digest).not.toBe(mine.deployment.digest)
  })

  test('immutable settings: kept when not given, refused when changed', () => {
    const mine = stored('r1', {siteId: 'SID-7'})
    const kept = plan({existing: [mine], rollout: rollout({values: {greeting: 'Hi'}})})
    if (kept.action !== 'update') throw new Error(kept.action)
    expect(JSON.parse(kept.record.valuesJson).resolved.siteId).toBe('SID-7')
    const refused = plan({existing: [mine], rollout: rollout({values: {siteId: 'SID-8'}})})
    expect(refused).toMatchObject({action: 'skip', kind: 'values', problems: [{path: 'parameters.siteId', message: expect.stringContaining('immutable')}]})
  })

  test('devices that cannot run the app, revoked devices and a missing version are skipped with the reason', () => {
    expect(plan({device: {...standalone, view: {deploymentTypes: []}}})).toMatchObject({action: 'skip', kind: 'fit', reason: expect.stringContaining('no role that runs applications')})
    expect(plan({device: {...standalone, view: null}})).toMatchObject({action: 'skip', kind: 'fit', reason: expect.stringContaining('has not reported its capabilities')})
    expect(plan({device: {...standalone, view: null}, rollout: rollout({profile: 'compose'})}).action).toBe('create')
    expect(plan({device: {...standalone, enrollment: 'revoked'}})).toMatchObject({action: 'skip', kind: 'revoked'})
    expect(plan({app: {error: 'app x@9 not found'}})).toMatchObject({action: 'skip', kind: 'app', reason: 'app x@9 not found'})
  })
})
