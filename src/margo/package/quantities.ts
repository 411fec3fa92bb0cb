/** Binary size quantities as written in descriptions (`512Mi`, `4Gi`). */

const FACTORS: Record<string, number> = {
  '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
}

/** Bytes in a quantity such as `4Gi`; whitespace before the unit is tolerated. Null if malformed. */
export function quantityToBytes(quantity: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|Pi|Ei)?\s*$/.exec(quantity)
  if (!m) return null
  return Number(m[1]) * (FACTORS[m[2] ?? ''] ?? 1)
}

/** The largest binary unit that keeps the number short: 2147483648 → `2Gi`, 1610612736 → `1.5Gi`. */
export function formatBytes(bytes: number): string {
  const units = ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'] as const
  for (const unit of units) {
    const factor = FACTORS[unit] ?? 1
    if (bytes >= factor) {
      const n = bytes / factor
      return `${Number.isInteger(n) ? n : Number(n.toFixed(2))}${unit}`
    }
  }
  return `${bytes}B`
}
