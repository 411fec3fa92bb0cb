/**
 * A small unified line diff for dry-run previews of deployment YAMLs. Deployment YAMLs are
 * a few hundred lines at most, so a longest-common-subsequence table is fast enough; past
 * MAX_CELLS the diff degrades to "everything removed, everything added" rather than use memory.
 */

const MAX_CELLS = 4_000_000

type Op = {kind: ' ' | '-' | '+', line: string}

function splitLines(text: string): string[] {
  if (text === '') return []
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  return lines
}

function editScript(a: string[], b: string[]): Op[] {
  const n = a.length
  const m = b.length
  if (n * m > MAX_CELLS) return [...a.map(line => ({kind: '-' as const, line})), ...b.map(line => ({kind: '+' as const, line}))]
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const width = m + 1
  const lcs = new Uint32Array((n + 1) * width)
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] = a[i] === b[j] ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!)
    }
  }
  const ops: Op[] = []
  let i = 0
  let j = 0
  while (i < n && j < m) {
    if (a[i] === b[j]) { ops.push({kind: ' ', line: a[i]!}); i++; j++ }
    else if (lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!) ops.push({kind: '-', line: a[i++]!})
    else ops.push({kind: '+', line: b[j++]!})
  }
  while (i < n) ops.push({kind: '-', line: a[i++]!})
  while (j < m) ops.push({kind: '+', line: b[j++]!})
  return ops
}

const range = (start: number, count: number) => (count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`)

/**
 * `diff -u` style text from `before` to `after`, with `context` unchanged lines around each
 * change; the empty string when they are equal.
 */
export function unifiedDiff(before: string, after: string, options: {from?: string, to?: string, context?: number} = {}): string {
  const context = options.context ?? 3
  const ops = editScript(splitLines(before), splitLines(after))
  if (!ops.some(o => o.kind !== ' ')) return ''

  // Positions (1-based) in the old and new text before each op.
  const oldAt: number[] = []
  const newAt: number[] = []
  let o = 1
  let n = 1
  for (const op of ops) {
    oldAt.push(o)
    newAt.push(n)
    if (op.kind !== '+') o++
    if (op.kind !== '-') n++
  }

  const out = [`--- ${options.from ?? 'current'}`, `+++ ${options.to ?? 'new'}`]
  let k = 0
  while (k < ops.length) {
    if (ops[k]!.kind === ' ') { k++; continue }
    // A hunk: from `context` lines before this change to `context` lines after the last
    // change that is no more than 2*context unchanged lines away.
    const start = Math.max(0, k - context)
    let end = k
    let last = k
    while (end < ops.length) {
      if (ops[end]!.kind !== ' ') last = end
      else if (end - last > 2 * context) break
      end++
    }
    end = Math.min(ops.length, last + context + 1)
    const hunk = ops.slice(start, end)
    const oldCount = hunk.filter(h => h.kind !== '+').length
    const newCount = hunk.filter(h => h.kind !== '-').length
    out.push(`@@ -${range(oldAt[start]!, oldCount)} +${range(newAt[start]!, newCount)} @@`)
    for (const h of hunk) out.push(`${h.kind}${h.line}`)
    k = end
  }
  return out.join('\n') + '\n'
}
