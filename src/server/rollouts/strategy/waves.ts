/**
 * Which wave each device of a rollout belongs to. The order is a hash of the client id, so the
 * same devices go first in every revision (the same canaries every time) and the order does
 * not depend on when devices were onboarded. Selector waves claim their devices first; count
 * and percentage waves then take the next devices in hash order; the last wave is the rest.
 */
import {matchesSelector, parseSelector} from '../../../operator-contract/selector.ts'
import {amountOf, type WaveSpec} from './spec.ts'

/** FNV-1a over the id's UTF-16 code units: stable across processes and versions. */
export function waveHash(clientId: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < clientId.length; i++) {
    h ^= clientId.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

export interface WaveMember {
  clientId: string
  labels: Readonly<Record<string, string>>
}

/** Client ids per wave: one list per explicit wave, then the rest. */
export function assignWaves(devices: readonly WaveMember[], waves: readonly WaveSpec[]): string[][] {
  const ordered = [...devices].map(d => ({d, h: waveHash(d.clientId)}))
    .sort((a, b) => a.h - b.h || (a.d.clientId < b.d.clientId ? -1 : a.d.clientId > b.d.clientId ? 1 : 0))
    .map(x => x.d)
  const out: string[][] = waves.map(() => [])
  const taken = new Set<string>()
  waves.forEach((w, i) => {
    if (w.kind !== 'selector') return
    const parsed = parseSelector(w.selector)
    if (!parsed.ok) return
    for (const d of ordered) {
      if (!taken.has(d.clientId) && matchesSelector(parsed.selector, d.labels)) {
        out[i]!.push(d.clientId)
        taken.add(d.clientId)
      }
    }
  })
  const rest = () => ordered.filter(d => !taken.has(d.clientId))
  waves.forEach((w, i) => {
    if (w.kind === 'selector') return
    const want = w.kind === 'count' ? w.count : amountOf({percent: w.percent}, devices.length)
    for (const d of rest().slice(0, want)) {
      out[i]!.push(d.clientId)
      taken.add(d.clientId)
    }
  })
  out.push(rest().map(d => d.clientId))
  return out
}
