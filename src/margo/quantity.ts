/** Binary (IEC) units the Margo resource fields use, with their multipliers. */
export const BINARY_UNITS = {Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60} as const
export type BinaryUnit = keyof typeof BINARY_UNITS

export const MEMORY_UNITS: readonly BinaryUnit[] = ['Ki', 'Mi', 'Gi']
export const STORAGE_UNITS: readonly BinaryUnit[] = ['Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei']

/**
 * Bytes in a quantity such as `8Gi`. One blank between number and unit is tolerated because
 * the spec's own examples write `59 Gi`. Returns null when the text is not an integer followed
 * by one of `units`. Very large values are approximate (JavaScript numbers), which is enough
 * for comparing resources.
 */
export function parseQuantity(text: string, units: readonly BinaryUnit[] = STORAGE_UNITS): number | null {
  const m = /^\s*(\d+)\s?([KMGTPE]i)\s*$/.exec(text)
  if (!m) return null
  const unit = m[2] as BinaryUnit
  if (!units.includes(unit)) return null
  return Number(m[1]) * BINARY_UNITS[unit]
}
