import {describe, expect, test} from 'bun:test'
import {parse} from 'yaml'
import {parseCapabilities} from '../../../src/margo/capabilities.ts'
import {parseApplicationDescription} from '../../../src/margo/package/description.ts'
import type {DeploymentProfile} from '../../../src/margo/package/types.ts'
import {formatBytes, MEMORY_UNITS, parseQuantity, readQuantity, STORAGE_UNITS} from '../../../src/margo/quantity.ts'
import {profileMismatches} from '../../../src/server/catalog/profiles.ts'
import {MINIMAL_G1} from '../catalog/fixtures.ts'
import {clone, G1_CAPABILITIES} from './fixtures.ts'

const Ki = 2 ** 10
const Mi = 2 ** 20
const Gi = 2 ** 30

/** Written exactly as the data-model pattern: every reader takes these as they are. */
const EXACT: [string, number][] = [
  ['512Mi', 512 * Mi], ['8Gi', 8 * Gi], ['1Ki', Ki], ['0Mi', 0], ['007Gi', 7 * Gi], ['15876Mi', 15876 * Mi],
]

/** The spec's own example spelling (`59 Gi`) and stray blanks around the value: read, but not exact. */
const BLANKS: [string, number, string][] = [
  ['59 Gi', 59 * Gi, '59Gi'], [' 8Gi', 8 * Gi, '8Gi'], ['8Gi ', 8 * Gi, '8Gi'], ['2\tGi', 2 * Gi, '2Gi'],
]

/** Kubernetes quantities and other near misses that are not Margo quantities. */
const REFUSED = [
  '1.5Gi', '0.5Mi', '1024', '0', '8G', '8GB', '8gi', '8GI', '8 GiB', '8M', '8m', '8k', '8e3Mi', '1E', '0x10Mi',
  '-8Gi', '+8Gi', '8  Gi', '8 Gi Gi', 'Gi', '', ' ', '1_000Mi', '1,000Mi', '٣Gi',
]

describe('the quantity grammar (data-model pattern for memory and storage)', () => {
  test('whole numbers with a binary unit are read as bytes and are already canonical', () => {
    for (const [text, bytes] of EXACT) {
      expect(readQuantity(text, MEMORY_UNITS)).toEqual({bytes, canonical: text})
      expect(parseQuantity(text)).toBe(bytes)
    }
  })

  test('one blank before the unit, and blanks around the value, are read and canonicalised', () => {
    for (const [text, bytes, canonical] of BLANKS) expect(readQuantity(text, MEMORY_UNITS)).toEqual({bytes, canonical})
  })

  test('decimals, unitless numbers, SI and lowercase units, signs and exponents are refused', () => {
    for (const text of REFUSED) {
      expect({text, q: readQuantity(text, STORAGE_UNITS)}).toEqual({text, q: null})
    }
  })

  test('memory takes Ki, Mi and Gi only; storage goes up to Ei', () => {
    for (const unit of ['Ti', 'Pi', 'Ei']) {
      expect(readQuantity(`1${unit}`, MEMORY_UNITS)).toBeNull()
      expect(readQuantity(`1${unit}`, STORAGE_UNITS)).not.toBeNull()
    }
    expect(parseQuantity('2Ti', STORAGE_UNITS)).toBe(2 * 2 ** 40)
    expect(parseQuantity('1Ei')).toBe(2 ** 60)
  })

  test('formatBytes is for messages: the largest unit, fractions allowed', () => {
    expect(formatBytes(2 * Gi)).toBe('2Gi')
    expect(formatBytes(1.5 * Gi)).toBe('1.5Gi')
    expect(formatBytes(512)).toBe('512B')
  })
})

describe('every reader of a quantity follows the one grammar', () => {
  const descriptionWith = (memory: string) => {
    const d = parse(MINIMAL_G1) as {deploymentProfiles: Record<string, unknown>[]}
    d.deploymentProfiles[0]!.requiredResources = {memory, storage: memory}
    return parseApplicationDescription(d)
  }
  const capabilitiesWith = (memory: string) => {
    const c = clone(G1_CAPABILITIES)
    c.properties.resources.memory = memory
    return parseCapabilities(c)
  }
  const needs = (memory: string): DeploymentProfile => ({
    type: 'helm.v3', id: 'p', components: [], requiredResources: {memory},
  } as unknown as DeploymentProfile)
  const tiny = {deploymentTypes: ['helm.v3' as const], memoryBytes: 0}

  test('an ApplicationDescription requirement must be exact; the blank spelling is named', () => {
    for (const [text] of EXACT) expect({text, ok: descriptionWith(text).ok}).toEqual({text, ok: true})
    for (const [text, , canonical] of BLANKS) {
      const r = descriptionWith(text)
      if (r.ok) throw new Error(`${JSON.stringify(text)} should be refused in a description`)
      expect(r.errors[0]!.message).toContain(`must be written ${canonical}`)
    }
    for (const text of REFUSED) expect({text, ok: descriptionWith(text).ok}).toEqual({text, ok: false})
  })

  test('device capabilities are read leniently (spec A12) but by the same grammar', () => {
    for (const [text, bytes] of [...EXACT, ...BLANKS]) {
      const r = capabilitiesWith(text)
      expect({text, bytes: r.ok ? r.value.memoryBytes : null}).toEqual({text, bytes})
    }
    for (const text of REFUSED) expect({text, ok: capabilitiesWith(text).ok}).toEqual({text, ok: false})
  })

  test('profile matching holds a requirement against a device only when the grammar reads it', () => {
    for (const [text] of [...EXACT.filter(([, b]) => b > 0), ...BLANKS]) {
      expect({text, reasons: profileMismatches(needs(text), tiny).length}).toEqual({text, reasons: 1})
    }
    for (const text of [...REFUSED, '1Ti']) {
      expect({text, reasons: profileMismatches(needs(text), tiny)}).toEqual({text, reasons: []})
    }
  })
})
