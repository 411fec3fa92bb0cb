import {describe, expect, test} from 'bun:test'
import {parseApplicationDescription} from '../../../src/margo/package/description.ts'
import {chooseProfile, deploymentTypesForRoles, type DeviceView, type ProfileChoice} from '../../../src/server/catalog/profiles.ts'
import type {ApplicationDescription} from '../../../src/margo/package/types.ts'
import {MINIMAL_G1, MULTI_PROFILE} from './fixtures.ts'

function load(source: string): ApplicationDescription {
  const r = parseApplicationDescription(source)
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  return r.value
}

const multi = load(MULTI_PROFILE)
const g1 = load(MINIMAL_G1)
const HELM = 'com-northstartida-digitron-orchestrator-helm.v3-a'
const COMPOSE = 'com-northstartida-digitron-orchestrator-compose-a'
const Gi = 2 ** 30

const bigCluster: DeviceView = {
  deploymentTypes: ['helm.v3'],
  cpu: {cores: 8, architectures: ['amd64']},
  memoryBytes: 16 * Gi,
  storageBytes: 100 * Gi,
  peripherals: [{type: 'GPU'}],
  interfaces: [{type: 'ethernet'}],
}

function chosen(r: ProfileChoice): string {
  if (!r.ok) throw new Error(r.reasons.join('; '))
  return r.profile.id
}

function reasons(r: ProfileChoice): string[] {
  if (r.ok) throw new Error(`expected no profile, got ${r.profile.id}`)
  return r.reasons
}

describe('spec §3.4 step 1: the profile type must be one the device runs', () => {
  test('a Kubernetes device that meets the requirements gets the helm profile', () => {
    expect(chosen(chooseProfile(multi, bigCluster))).toBe(HELM)
  })

  test('a compose-only device gets the compose profile', () => {
    expect(chosen(chooseProfile(multi, {deploymentTypes: ['compose'], cpu: {cores: 2, architectures: ['arm64']}}))).toBe(COMPOSE)
  })

  test('profiles are tried in listed order when the device runs both types', () => {
    expect(chosen(chooseProfile(multi, {...bigCluster, deploymentTypes: ['compose', 'helm.v3']}))).toBe(HELM)
  })

  test('G1 roles map to deployment types', () => {
    expect(deploymentTypesForRoles(['Standalone Cluster'])).toEqual(['helm.v3'])
    expect(deploymentTypesForRoles(['cluster leader'])).toEqual(['helm.v3'])
    expect(deploymentTypesForRoles(['Standalone Device'])).toEqual(['compose'])
    expect(deploymentTypesForRoles(['Cluster Worker'])).toEqual([])
  })
})

describe('requiredResources matching, with reasons in plain words', () => {
  test('too little memory rejects the helm profile and says why; the compose profile is then wrong type', () => {
    const r = reasons(chooseProfile(multi, {...bigCluster, memoryBytes: 2 * Gi}))
    expect(r).toEqual([
      `profile ${HELM} needs 4Gi memory, device has 2Gi`,
      `profile ${COMPOSE} is compose, device runs only helm.v3`,
    ])
  })

  test('a device that fails the helm requirements falls back to the compose profile', () => {
    const device: DeviceView = {...bigCluster, deploymentTypes: ['helm.v3', 'compose'], memoryBytes: 2 * Gi}
    expect(chosen(chooseProfile(multi, device))).toBe(COMPOSE)
  })

  test('cores, storage, architecture, peripherals and interfaces each give a reason', () => {
    const r = reasons(chooseProfile(multi, {
      deploymentTypes: ['helm.v3'],
      cpu: {cores: 1, architectures: ['aarch64']},
      memoryBytes: 8 * Gi,
      storageBytes: 1.5 * Gi,
      peripherals: [],
      interfaces: [{type: 'wifi'}],
    }, 'helm.v3'))
    expect(r).toEqual([
      `profile ${HELM} needs 2 CPU cores, device has 1`,
      `profile ${HELM} runs on amd64, device is arm64`,
      `profile ${HELM} needs 10Gi storage, device has 1.5Gi`,
      `profile ${HELM} needs a gpu peripheral, device reports none`,
      `profile ${HELM} needs an ethernet interface, device reports wifi`,
    ])
  })

  test('x86_64 on the device counts as amd64', () => {
    expect(chosen(chooseProfile(multi, {...bigCluster, cpu: {cores: 8, architectures: ['x86_64']}}))).toBe(HELM)
  })

  test('what the device did not report is not held against a profile', () => {
    expect(chosen(chooseProfile(multi, {deploymentTypes: ['helm.v3']}))).toBe(HELM)
  })

  test('a device with no runnable role gets a reason per profile', () => {
    const r = reasons(chooseProfile(multi, {deploymentTypes: []}))
    expect(r).toHaveLength(2)
    expect(r[0]).toContain('no role')
  })
})

describe('wanted: a type or a profile id', () => {
  test('a type narrows the choice; helm means helm.v3', () => {
    const device: DeviceView = {...bigCluster, deploymentTypes: ['helm.v3', 'compose']}
    expect(chosen(chooseProfile(multi, device, 'compose'))).toBe(COMPOSE)
    expect(chosen(chooseProfile(multi, device, 'helm'))).toBe(HELM)
  })

  test('a profile id selects that profile, still checked against the device', () => {
    expect(chosen(chooseProfile(multi, {deploymentTypes: ['compose']}, COMPOSE))).toBe(COMPOSE)
    expect(reasons(chooseProfile(multi, {deploymentTypes: ['compose']}, HELM))).toEqual([`profile ${HELM} is helm.v3, device runs only compose`])
  })

  test('an unknown id or a missing type is explained', () => {
    expect(reasons(chooseProfile(multi, bigCluster, 'nope'))[0]).toContain('no profile with id or type "nope"')
    expect(reasons(chooseProfile(g1, null, 'compose'))[0]).toContain('has no compose profile')
  })
})

describe('device capabilities not reported yet (device = null)', () => {
  test('a single-profile description is chosen', () => {
    expect(chosen(chooseProfile(g1, null))).toBe('com-northstartida-hello-world-helm.v3-a')
  })

  test('with several profiles the caller must name one', () => {
    const r = reasons(chooseProfile(multi, null))
    expect(r[0]).toContain('has not reported its capabilities')
    expect(r[0]).toContain(HELM)
    expect(chosen(chooseProfile(multi, null, COMPOSE))).toBe(COMPOSE)
    expect(chosen(chooseProfile(multi, null, 'compose'))).toBe(COMPOSE)
  })
})
