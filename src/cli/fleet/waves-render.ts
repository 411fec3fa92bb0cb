/**
 * Staged rollouts in text: one progress bar per wave, and one reason per device that has not
 * converged ("why not yet"). Shared by `margo rollout show`, `margo status` and `--watch`.
 */
import type {DeviceWhy, RolloutProgress, WaveProgress, WhyReason} from '../../operator-contract/strategy.ts'
import {type OutputContext, paint} from '../output.ts'

export function describeReason(r: WhyReason): string {
  switch (r.code) {
    case 'waiting_for_wave': return `waiting for wave ${r.wave} (the rollout is at wave ${r.currentWave})`
    case 'queued': return `queued in wave ${r.wave}: at most ${r.maxUnavailable} device(s) update at once`
    case 'outside_window': return `outside its update window ${r.windows.join(', ')}${r.nextAt ? ` (next opens ${r.nextAt})` : ''}`
    case 'paused': return `rollout paused by ${r.by}: ${r.reason}`
    case 'aborted': return `rollout aborted by ${r.by}`
    case 'rolled_back': return `rolled back: ${r.reason}`
    case 'skipped': return `skipped: ${r.rule}`
    case 'offline': return `offline since ${r.since ?? 'never seen'}`
    case 'failed': return `failed: ${r.errorCode} ${r.message}`
    case 'applying': return `applying since ${r.since}`
    case 'unresolved_template': return `template does not resolve: ${r.message}`
  }
}

function bar(w: WaveProgress, width = 20): string {
  if (w.size === 0) return `[${'·'.repeat(width)}]`
  const done = Math.round((w.done / w.size) * width)
  const bad = Math.min(width - done, Math.round(((w.failed + w.excluded) / w.size) * width))
  return `[${'#'.repeat(done)}${'x'.repeat(bad)}${'-'.repeat(width - done - bad)}]`
}

export function waveLine(w: WaveProgress): string {
  const extra = [w.failed ? `${w.failed} failed` : '', w.excluded ? `${w.excluded} excluded` : '', w.pending ? `${w.pending} applying` : ''].filter(Boolean).join(', ')
  return `wave ${w.wave} (${w.spec})\t${bar(w)} ${w.done}/${w.size} installed${extra ? `, ${extra}` : ''}`
}

export function phaseText(p: RolloutProgress): string {
  const wave = `wave ${p.wave}/${p.waves.length}`
  if (p.phase === 'paused') return `paused at ${wave}: ${p.pause?.reason ?? ''}`
  if (p.phase === 'waiting') return `waiting after ${wave}: ${p.pause?.reason ?? `next wave at ${p.nextWaveAt}`}`
  if (p.phase === 'aborted') return `aborted at ${wave} by ${p.endedBy ?? 'operator'}`
  if (p.phase === 'rolled-back') return `rolled back at ${wave}: ${p.endedBy ?? ''}`
  return `${p.phase} (${wave})`
}

/** A staged rollout's block: phase, a bar per wave, and the reasons (of one device, when given). */
export function renderProgress(name: string, p: RolloutProgress, ctx: OutputContext, options: {clientId?: string, limit?: number} = {}): string {
  const why: DeviceWhy[] = options.clientId ? p.notConverged.filter(d => d.clientId === options.clientId) : p.notConverged
  const limit = options.limit ?? 50
  if (!ctx.tty) {
    return [
      `rollout\t${name}\t${p.phase}\t${p.wave}`,
      ...(options.clientId ? [] : p.waves.map(w => `wave\t${w.wave}\t${w.spec}\t${w.size}\t${w.done}\t${w.failed}\t${w.excluded}\t${w.pending}\t${w.waiting}`)),
      ...why.map(d => `why\t${d.clientId}\t${d.wave}\t${d.reason.code}\t${describeReason(d.reason).replace(/[\t\n]+/g, ' ')}`),
    ].join('\n')
  }
  const style = p.phase === 'paused' || p.phase === 'rolled-back' || p.phase === 'aborted' ? 'yellow' as const : undefined
  const lines = [`Rollout ${name}: ${paint(phaseText(p), style, ctx)}`]
  if (!options.clientId) for (const w of p.waves) lines.push(`  ${waveLine(w)}`)
  if (why.length > 0) {
    lines.push(options.clientId ? '  Why not yet:' : `  Why not yet (${why.length} device(s)):`)
    for (const d of why.slice(0, limit)) lines.push(`    ${d.clientId}  wave ${d.wave}  ${describeReason(d.reason)}`)
    if (why.length > limit) lines.push(`    … and ${why.length - limit} more (--json lists every one)`)
  }
  return lines.join('\n')
}
