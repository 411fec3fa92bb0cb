/**
 * Picks the deployment profile for a device (spec §3.4 step 1): the profile type must be one
 * the device runs, then the profile's requiredResources must fit what the device reported.
 * Profiles are tried in the order the description lists them, which is the publisher's
 * preference. Every rejected profile gets a reason in plain words.
 *
 * What the device did not report is not held against a profile: an unknown memory size passes
 * a memory requirement. A profile forced by id with `device = null` skips matching entirely.
 */
import type {ApplicationDescription, DeploymentProfile, ProfileType} from '../../margo/package/types.ts'
import {MEMORY_UNITS, STORAGE_UNITS, formatBytes, parseQuantity} from '../../margo/quantity.ts'

export interface DeviceView {
  deploymentTypes: ProfileType[]
  cpu?: {cores: number, architectures: string[]}
  memoryBytes?: number
  storageBytes?: number
  peripherals?: {type: string}[]
  interfaces?: {type: string}[]
}

export type ProfileChoice =
  | {ok: true, profile: DeploymentProfile}
  | {ok: false, reasons: string[]}

const ARCHITECTURE_ALIASES: Record<string, string> = {
  'x86_64': 'amd64', 'x86-64': 'amd64', 'x64': 'amd64', 'aarch64': 'arm64', 'armv7l': 'arm', 'armhf': 'arm', 'armv7': 'arm',
}
const KNOWN_ARCHITECTURES = new Set(['amd64', 'arm64', 'arm', 'riscv64'])

/** G1 role mapping: Kubernetes roles run helm.v3 profiles, a Standalone Device runs compose. */
export function deploymentTypesForRoles(roles: readonly string[]): ProfileType[] {
  const types = new Set<ProfileType>()
  for (const role of roles) {
    const r = role.trim().toLowerCase().replace(/\s+/g, ' ')
    if (r === 'standalone cluster' || r === 'cluster leader' || r === 'cluster lead') types.add('helm.v3')
    if (r === 'standalone device') types.add('compose')
  }
  return [...types]
}

function normaliseArchitecture(a: string): string {
  const lower = a.trim().toLowerCase()
  const canonical = ARCHITECTURE_ALIASES[lower] ?? lower
  return KNOWN_ARCHITECTURES.has(canonical) ? canonical : 'other'
}

function normaliseType(t: string): ProfileType | undefined {
  if (t === 'helm' || t === 'helm.v3') return 'helm.v3'
  if (t === 'compose') return 'compose'
  return undefined
}

function list(profiles: readonly DeploymentProfile[]): string {
  return profiles.map(p => `${p.id} (${p.type})`).join(', ')
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`
}

/** Why this profile cannot run on this device; empty when it can. */
export function profileMismatches(profile: DeploymentProfile, device: DeviceView): string[] {
  const reasons: string[] = []
  const name = `profile ${profile.id}`
  const types = device.deploymentTypes.map(t => normaliseType(t)).filter(t => t !== undefined)
  if (!types.includes(profile.type)) {
    reasons.push(types.length === 0
      ? `${name} is ${profile.type}, device reports no role that runs applications`
      : `${name} is ${profile.type}, device runs only ${types.join(' and ')}`)
  }
  const need = profile.requiredResources
  if (!need) return reasons

  if (need.cpu && device.cpu) {
    if (device.cpu.cores < need.cpu.cores) reasons.push(`${name} needs ${need.cpu.cores} CPU cores, device has ${device.cpu.cores}`)
    const wantedArchs = need.cpu.architectures ?? []
    const deviceArchs = device.cpu.architectures.map(normaliseArchitecture)
    if (wantedArchs.length > 0 && deviceArchs.length > 0 && !deviceArchs.some(a => (wantedArchs as string[]).includes(a))) {
      reasons.push(`${name} runs on ${wantedArchs.join(' or ')}, device is ${deviceArchs.join(' and ')}`)
    }
  }
  for (const [kind, wanted, has, units] of [
    ['memory', need.memory, device.memoryBytes, MEMORY_UNITS],
    ['storage', need.storage, device.storageBytes, STORAGE_UNITS],
  ] as const) {
    if (wanted === undefined || has === undefined) continue
    const bytes = parseQuantity(wanted, units)
    if (bytes !== null && has < bytes) reasons.push(`${name} needs ${wanted} ${kind}, device has ${formatBytes(has)}`)
  }
  for (const [kind, wanted, has] of [
    ['peripheral', need.peripherals, device.peripherals],
    ['interface', need.interfaces, device.interfaces],
  ] as const) {
    if (!wanted || !has) continue
    const present = new Set(has.map(h => h.type.trim().toLowerCase()))
    for (const w of wanted) {
      if (!present.has(w.type)) {
        reasons.push(`${name} needs ${article(w.type)} ${kind}, device reports ${present.size === 0 ? 'none' : [...present].join(', ')}`)
      }
    }
  }
  return reasons
}

/**
 * Chooses the profile to deploy. `wanted` is a profile id, or a type (`helm.v3`, `helm` or
 * `compose`) that narrows the choice; a profile id wins if an id happens to equal a type name.
 */
export function chooseProfile(description: ApplicationDescription, device: DeviceView | null, wanted?: string): ProfileChoice {
  const all = description.deploymentProfiles
  let candidates = all
  let forcedId = false
  if (wanted !== undefined && wanted !== '') {
    const byId = all.filter(p => p.id === wanted)
    const type = normaliseType(wanted)
    if (byId.length > 0) {
      candidates = byId
      forcedId = true
    } else if (type !== undefined) {
      candidates = all.filter(p => p.type === type)
      if (candidates.length === 0) return {ok: false, reasons: [`${description.metadata.id} has no ${type} profile; its profiles are ${list(all)}`]}
    } else {
      return {ok: false, reasons: [`${description.metadata.id} has no profile with id or type ${JSON.stringify(wanted)}; its profiles are ${list(all)}`]}
    }
  }

  if (device === null) {
    const only = candidates[0]
    if (candidates.length === 1 && only) return {ok: true, profile: only}
    return {ok: false, reasons: [`the device has not reported its capabilities yet, so no profile can be matched; name one of ${list(candidates)}`]}
  }

  const reasons: string[] = []
  for (const profile of candidates) {
    const mismatches = profileMismatches(profile, device)
    if (mismatches.length === 0) return {ok: true, profile}
    reasons.push(...mismatches)
  }
  if (forcedId) return {ok: false, reasons}
  return {ok: false, reasons: reasons.length > 0 ? reasons : ['the application has no deployment profiles']}
}
