/**
 * Order application versions the way people read them: numeric parts numerically
 * ("1.10" after "1.9"), a pre-release ("1.0-rc.1") before its release, text parts by text.
 */
export function compareVersions(a: string, b: string): number {
  const [coreA = '', preA] = splitPre(a)
  const [coreB = '', preB] = splitPre(b)
  const core = compareParts(coreA, coreB)
  if (core !== 0) return core
  if (preA === undefined || preB === undefined) return preA === preB ? 0 : preA === undefined ? 1 : -1
  return compareParts(preA, preB)
}

function splitPre(v: string): [string, string | undefined] {
  const i = v.indexOf('-')
  return i < 0 ? [v, undefined] : [v.slice(0, i), v.slice(i + 1)]
}

function compareParts(a: string, b: string): number {
  const pa = a.split('.')
  const pb = b.split('.')
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i]
    const y = pb[i]
    if (x === undefined) return -1
    if (y === undefined) return 1
    const nx = /^\d+$/.test(x) ? Number(x) : NaN
    const ny = /^\d+$/.test(y) ? Number(y) : NaN
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) {
      if (nx !== ny) return nx < ny ? -1 : 1
    } else if (x !== y) {
      return x < y ? -1 : 1
    }
  }
  return 0
}

export function latestVersion(versions: string[]): string | undefined {
  return [...versions].sort(compareVersions).at(-1)
}
