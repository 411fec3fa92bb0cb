/**
 * The one quantity grammar for memory and storage, wherever a Margo document states them
 * (device capabilities, a profile's requiredResources, the agent's configured overrides): the
 * data-model pattern `^[0-9]+(Ki|Mi|Gi)$` for memory and `^[0-9]+(Ki|Mi|Gi|Ti|Pi|Ei)$` for
 * storage. No decimals, no unitless byte counts, no decimal (SI) units: those are Kubernetes
 * quantities, not Margo ones.
 */

/** Binary (IEC) units the Margo resource fields use, with their multipliers. */
export const BINARY_UNITS = {Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60} as const
export type BinaryUnit = keyof typeof BINARY_UNITS

export const MEMORY_UNITS: readonly BinaryUnit[] = ['Ki', 'Mi', 'Gi']
export const STORAGE_UNITS: readonly BinaryUnit[] = ['Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei']

export interface Quantity {
  /** Approximate for very large values (JavaScript numbers), which is enough for comparing resources. */
  bytes: number
  /** The data-model spelling of the same quantity: `8 Gi` → `8Gi`. */
  canonical: string
}

// One blank between number and unit, and blanks around the whole, are read because the spec's
// own capabilities examples write `59 Gi`; `canonical` tells a reader whether the text was exact.
const GRAMMAR = /^\s*([0-9]+)\s?([KMGTPE]i)\s*$/

/** The quantity in `text`, or null when it is not a whole number followed by one of `units`. */
export function readQuantity(text: string, units: readonly BinaryUnit[] = STORAGE_UNITS): Quantity | null {
  const m = GRAMMAR.exec(text)
  if (!m) return null
  const unit = m[2] as BinaryUnit
  if (!units.includes(unit)) return null
  return {bytes: Number(m[1]) * BINARY_UNITS[unit], canonical: `${m[1]}${unit}`}
}

/** Bytes in a quantity such as `8Gi`; null when `readQuantity` refuses it. */
export function parseQuantity(text: string, units: readonly BinaryUnit[] = STORAGE_UNITS): number | null {
  return readQuantity(text, units)?.bytes ?? null
}

/**
 * Bytes for people, in the largest binary unit that keeps the number short: 2147483648 → `2Gi`,
 * 1610612736 → `1.5Gi`. For messages only: a fraction is not a valid quantity.
 */
export function formatBytes(bytes: number): string {
  const units = ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'] as const
  for (const unit of units) {
    const factor = BINARY_UNITS[unit]
    if (bytes >= factor) {
      const n = bytes / factor
      return `${Number.isInteger(n) ? n : Number(n.toFixed(2))}${unit}`
    }
  }
  return `${bytes}B`
}
