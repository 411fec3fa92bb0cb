/** Parses the Prometheus text format strictly enough to catch a malformed exposition. */
export interface ParsedSample {name: string, labels: Record<string, string>, value: number}

export function parseExposition(text: string): {types: Map<string, string>, samples: ParsedSample[]} {
  const types = new Map<string, string>()
  const samples: ParsedSample[] = []
  const seenFamilies: string[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line)
    if (meta) {
      if (meta[1] === 'TYPE') {
        if (types.has(meta[2]!)) throw new Error(`family ${meta[2]} declared twice`)
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(meta[3]!)) throw new Error(`bad type: ${line}`)
        types.set(meta[2]!, meta[3]!)
        seenFamilies.push(meta[2]!)
      }
      continue
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) throw new Error(`bad sample line: ${line}`)
    const labels: Record<string, string> = {}
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy
      let pos = 0
      for (let lm = re.exec(m[2]); lm; lm = re.exec(m[2])) { labels[lm[1]!] = lm[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\'); pos = re.lastIndex }
      if (pos !== m[2].length) throw new Error(`bad labels: ${line}`)
    }
    const family = seenFamilies[seenFamilies.length - 1]
    if (!family || !(m[1] === family || m[1]!.startsWith(`${family}_`))) throw new Error(`sample ${m[1]} outside its family`)
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3])
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value: ${line}`)
    samples.push({name: m[1]!, labels, value})
  }
  return {types, samples}
}
