/**
 * Prometheus metrics without a dependency: counters, gauges and histograms with labels, and
 * the text exposition format (version 0.0.4). Label values are bounded by the callers: never
 * a device, deployment or request id.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram'
export type Labels = Readonly<Record<string, string>>

export interface Sample {
  /** The full sample name: the family's, or with `_bucket`, `_sum`, `_count`. */
  name: string
  labels: Labels
  value: number
}

export interface Family {
  name: string
  help: string
  type: MetricType
  samples: Sample[]
}

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** Seconds: from a fast poll (hundreds of µs) to a slow upload. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

const key = (labels: Labels) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)))

abstract class Metric {
  constructor(readonly name: string, readonly help: string) {}
  abstract collect(): Family
}

export class Counter extends Metric {
  private readonly values = new Map<string, {labels: Labels, value: number}>()
  inc(labels: Labels = {}, by = 1) {
    const k = key(labels)
    const v = this.values.get(k)
    if (v) v.value += by
    else this.values.set(k, {labels, value: by})
  }
  collect(): Family {
    return {name: this.name, help: this.help, type: 'counter', samples: [...this.values.values()].map(v => ({name: this.name, labels: v.labels, value: v.value}))}
  }
}

export class Gauge extends Metric {
  private readonly values = new Map<string, {labels: Labels, value: number}>()
  set(labels: Labels, value: number) {
    this.values.set(key(labels), {labels, value})
  }
  collect(): Family {
    return {name: this.name, help: this.help, type: 'gauge', samples: [...this.values.values()].map(v => ({name: this.name, labels: v.labels, value: v.value}))}
  }
}

export class Histogram extends Metric {
  private readonly series = new Map<string, {labels: Labels, counts: number[], sum: number, count: number}>()
  constructor(name: string, help: string, readonly buckets: readonly number[] = LATENCY_BUCKETS) {
    super(name, help)
  }
  observe(labels: Labels, value: number) {
    const k = key(labels)
    let s = this.series.get(k)
    if (!s) {
      s = {labels, counts: this.buckets.map(() => 0), sum: 0, count: 0}
      this.series.set(k, s)
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++
    s.sum += value
    s.count++
  }
  collect(): Family {
    const samples: Sample[] = []
    for (const s of this.series.values()) {
      for (const [i, b] of this.buckets.entries()) samples.push({name: `${this.name}_bucket`, labels: {...s.labels, le: String(b)}, value: s.counts[i]!})
      samples.push({name: `${this.name}_bucket`, labels: {...s.labels, le: '+Inf'}, value: s.count})
      samples.push({name: `${this.name}_sum`, labels: s.labels, value: s.sum})
      samples.push({name: `${this.name}_count`, labels: s.labels, value: s.count})
    }
    return {name: this.name, help: this.help, type: 'histogram', samples}
  }
}

/** A set of metrics, plus collectors that compute families when scraped (gauges read from a store). */
export class Registry {
  private readonly metrics: Metric[] = []
  private readonly collectors: (() => Family[])[] = []
  counter(name: string, help: string) { return this.add(new Counter(name, help)) }
  gauge(name: string, help: string) { return this.add(new Gauge(name, help)) }
  histogram(name: string, help: string, buckets?: readonly number[]) { return this.add(new Histogram(name, help, buckets)) }
  onCollect(collector: () => Family[]) { this.collectors.push(collector) }
  private add<M extends Metric>(m: M): M {
    this.metrics.push(m)
    return m
  }
  collect(): Family[] {
    return [...this.metrics.map(m => m.collect()), ...this.collectors.flatMap(c => c())]
  }
}

/** Adds `labels` to every sample (e.g. which serve process counted it). */
export function withLabels(families: Family[], labels: Labels): Family[] {
  return families.map(f => ({...f, samples: f.samples.map(s => ({...s, labels: {...labels, ...s.labels}}))}))
}

/** Families of the same name from several sources become one (the format wants a family's samples together). */
export function mergeFamilies(lists: Family[][]): Family[] {
  const byName = new Map<string, Family>()
  for (const list of lists) {
    for (const f of list) {
      const known = byName.get(f.name)
      if (known) known.samples.push(...f.samples)
      else byName.set(f.name, {...f, samples: [...f.samples]})
    }
  }
  return [...byName.values()]
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
const formatValue = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v))

/** The text exposition format. */
export function renderExposition(families: Family[]): string {
  let out = ''
  for (const f of families) {
    out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`
    for (const s of f.samples) {
      const labels = Object.entries(s.labels)
      out += labels.length ? `${s.name}{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}} ${formatValue(s.value)}\n` : `${s.name} ${formatValue(s.value)}\n`
    }
  }
  return out
}

/** This process's CPU time, resident memory and start time, as Prometheus names them. */
export function processFamilies(): Family[] {
  const cpu = process.cpuUsage()
  const g = (name: string, help: string, type: MetricType, value: number): Family => ({name, help, type, samples: [{name, labels: {}, value}]})
  return [
    g('process_cpu_seconds_total', 'User and system CPU time spent, in seconds.', 'counter', (cpu.user + cpu.system) / 1e6),
    g('process_resident_memory_bytes', 'Resident memory size in bytes.', 'gauge', process.memoryUsage.rss()),
    g('process_start_time_seconds', 'Start time of the process since the epoch, in seconds.', 'gauge', Math.round((Date.now() - performance.now()) / 1000)),
  ]
}
