import type {StatusView} from '../../client/status.ts'
import {renderRolloutDetail} from '../fleet/rollout-render.ts'
import {phaseText, renderProgress, waveLine} from '../fleet/waves-render.ts'
import type {DeploymentStatusView, DeviceLivenessView, FleetOverview, RolloutDetail, StatusErrorInfo, TargetStatus} from '../../operator-contract/views.ts'
import {type Cell, type OutputContext, type Style, blocks, fields, formatTime, keyValues, paint, section, table} from '../output.ts'
import {stateCell} from './states.ts'

/** `margo status` and `margo status --watch`: overview, one target, and the lines of a piped watch. */

const STATE_ORDER = ['installed', 'installing', 'pending', 'failed', 'removing', 'removed', 'unreported']
const LIVENESS_STYLE: Record<string, Style> = {online: 'green', stale: 'yellow', offline: 'red'}
/** Rows shown on a terminal before "… and N more": a watch must fit the screen. */
const TTY_LIST_LIMIT = 15

export function errorText(e: StatusErrorInfo | null | undefined): string {
  if (!e) return ''
  return e.code && e.message ? `${e.code}: ${e.message}` : e.code ?? e.message ?? ''
}

const livenessCell = (l: string): Cell => (LIVENESS_STYLE[l] ? {text: l, style: LIVENESS_STYLE[l]} : l)

function byState(o: FleetOverview): [string, number][] {
  const rank = (s: string) => (STATE_ORDER.includes(s) ? STATE_ORDER.indexOf(s) : STATE_ORDER.length)
  return Object.entries(o.deployments.byState).filter(([, n]) => n > 0).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
}

function limited<T>(items: readonly T[], ctx: OutputContext): {shown: readonly T[], more: string} {
  if (!ctx.tty || items.length <= TTY_LIST_LIMIT) return {shown: items, more: ''}
  return {shown: items.slice(0, TTY_LIST_LIMIT), more: `\n${paint(`… and ${items.length - TTY_LIST_LIMIT} more (--json lists all)`, 'dim', ctx)}`}
}

export function renderOverview(o: FleetOverview, ctx: OutputContext): string {
  const d = o.devices
  const states = byState(o)
  let summary: string
  if (!ctx.tty) {
    summary = [
      ...(['total', 'online', 'stale', 'offline', 'pending', 'revoked'] as const).map(k => `devices.${k}\t${d[k]}`),
      `deployments.total\t${o.deployments.total}`,
      ...states.map(([s, n]) => `deployments.${s}\t${n}`),
    ].join('\n')
  } else {
    const count = (n: number, label: string, style: Style) => (n ? paint(`${n} ${label}`, style, ctx) : `0 ${label}`)
    const devices = `${d.total} total: ${count(d.online, 'online', 'green')}, ${count(d.stale, 'stale', 'yellow')}, ${count(d.offline, 'offline', 'red')}, ${count(d.pending, 'pending', 'yellow')}, ${d.revoked} revoked`
    const deployments = `${o.deployments.total} total${states.length ? ': ' : ''}${states.map(([s, n]) => paint(`${n} ${s}`, s === 'failed' ? 'red' : undefined, ctx)).join(', ')}`
    summary = fields([{label: 'Devices', key: 'devices', value: devices}, {label: 'Deployments', key: 'deployments', value: deployments}], ctx)
    if (d.pending) summary += `\n${paint('approve pending devices with: margo device approve <clientId>', 'dim', ctx)}`
  }

  const failed = limited(o.failedDeployments, ctx)
  const failedTable = failed.shown.length
    ? table(['deployment', 'app', 'device', 'reported', 'error'], failed.shown.map(f => [
        ...(ctx.tty ? [] : ['failed']), f.deploymentId, `${f.appId}@${f.appVersion}`, f.clientId, formatTime(f.reportedAt, ctx), {text: errorText(f.error), style: 'red'},
      ]), ctx) + failed.more
    : ''
  const quiet = limited(o.staleOrOfflineDevices, ctx)
  const quietTable = quiet.shown.length
    ? table(['device', 'liveness', 'last seen', 'labels'], quiet.shown.map(q => [
        ...(ctx.tty ? [] : ['device']), q.clientId, livenessCell(q.liveness), formatTime(q.lastSeenAt, ctx), keyValues(q.labels),
      ]), ctx) + quiet.more
    : ''
  const expiring = limited(o.expiringCertificates ?? [], ctx)
  const expiringTable = expiring.shown.length
    ? table(['device', 'certificate expires', 'left', 'labels'], expiring.shown.map(e => [
        ...(ctx.tty ? [] : ['certificate']), e.clientId, e.notAfter, {text: e.expired ? 'expired' : `${e.daysLeft}d`, style: e.expired ? 'red' : 'yellow'}, keyValues(e.labels),
      ]), ctx) + expiring.more
    : ''
  const days = o.certExpiryWarningSeconds !== undefined ? ` within ${Math.round(o.certExpiryWarningSeconds / 86400)} days` : ''
  return blocks([summary, section('Failed deployments', failedTable, ctx), section('Stale or offline devices', quietTable, ctx), section(`Certificates expiring${days}`, expiringTable, ctx)], ctx)
}

function deviceLine(d: DeviceLivenessView | undefined, clientId: string, ctx: OutputContext): Cell {
  if (!d) return clientId
  if (d.enrollment !== 'active') return {text: `${clientId} (${d.enrollment})`, style: 'yellow'}
  const seen = d.lastSeenAt ? `seen ${formatTime(d.lastSeenAt, ctx)}` : 'never seen'
  return {text: `${clientId} (${d.liveness}, ${seen})`, ...(LIVENESS_STYLE[d.liveness] ? {style: LIVENESS_STYLE[d.liveness]} : {})}
}

function renderDeploymentTty(dep: DeploymentStatusView, device: DeviceLivenessView | undefined, ctx: OutputContext, timelineLimit: number): string {
  const state = dep.reportedAt ? `${dep.state} (${formatTime(dep.reportedAt, ctx)})` : dep.state
  const items = [
    {label: 'Deployment', key: 'deploymentId', value: dep.deploymentId},
    {label: 'App', key: 'app', value: `${dep.appId} ${dep.appVersion} (${dep.profile.type})`},
    {label: 'Device', key: 'clientId', value: deviceLine(device, dep.clientId, ctx)},
    {label: 'State', key: 'state', value: {text: state, ...(stateStyle(dep.state) ? {style: stateStyle(dep.state)!} : {})}},
    ...(dep.desired === 'absent' ? [{label: 'Desired', key: 'desired', value: 'absent (being removed)'}] : []),
    ...(dep.lastError ? [{label: 'Last error', key: 'lastError', value: {text: `${errorText(dep.lastError)}${dep.lastError.component ? ` [${dep.lastError.component}]` : ''} (${dep.lastError.state}, ${formatTime(dep.lastError.at, ctx)})`, style: 'red' as const}}] : []),
  ]
  const components = dep.components.length
    ? table(['component', 'state', 'error'], dep.components.map(c => [c.name, stateCell(c.state), errorText(c.error)]), ctx)
    : ''
  const entries = dep.timeline.slice(-timelineLimit)
  const skipped = dep.timeline.length - entries.length
  const timeline = entries.length
    ? (skipped ? `${paint(`… ${skipped} earlier`, 'dim', ctx)}\n` : '') +
      table(['when', 'state', 'error'], entries.map(e => [formatTime(e.at, ctx), stateCell(e.state), errorText(e.error ?? e.components.find(c => c.error)?.error)]), ctx)
    : paint('no reports yet — the device reports after its next poll', 'dim', ctx)
  return blocks([fields(items, ctx), section('Components', components, ctx), section('Timeline', timeline, ctx)], ctx)
}

function stateStyle(state: string): Style | undefined {
  const c = stateCell(state)
  return typeof c === 'string' ? undefined : c.style
}

export function renderTarget(t: TargetStatus, ctx: OutputContext): string {
  const deviceOf = (clientId: string) => t.devices.find(d => d.clientId === clientId)
  if (!ctx.tty) {
    const lines: string[] = []
    for (const d of t.devices) lines.push(['device', d.clientId, d.enrollment, d.liveness, d.lastSeenAt ?? '-'].join('\t'))
    for (const dep of t.deployments) {
      lines.push(['deployment', dep.deploymentId, dep.appId, dep.appVersion, dep.clientId, dep.state, dep.reportedAt ?? '-', errorText(dep.error)].join('\t'))
      for (const c of dep.components) lines.push(['component', dep.deploymentId, c.name, c.state, errorText(c.error)].join('\t'))
      if (dep.lastError) lines.push(['lasterror', dep.deploymentId, dep.lastError.at, dep.lastError.state, dep.lastError.component ?? '-', errorText(dep.lastError)].join('\t'))
      for (const e of dep.timeline) lines.push(['timeline', dep.deploymentId, e.at, e.state, errorText(e.error)].join('\t'))
    }
    return lines.map(l => l.replace(/[\r\n]+/g, ' ')).join('\n')
  }
  const heading = t.kind === 'device'
    ? fields([{label: 'Device', key: 'clientId', value: deviceLine(deviceOf(t.id), t.id, ctx)}], ctx)
    : t.kind === 'app' ? fields([{label: 'App', key: 'appId', value: `${t.id} (${t.deployments.length} deployment${t.deployments.length === 1 ? '' : 's'})`}], ctx) : ''
  if (!t.deployments.length) {
    const hint = t.kind === 'device' ? `no deployments — create one with: margo deploy <appId> --device ${t.id}` : `no deployments — create one with: margo deploy ${t.id} --device <clientId>`
    return blocks([heading, hint], ctx)
  }
  const limit = t.deployments.length === 1 ? Number.POSITIVE_INFINITY : 5
  return blocks([heading, ...t.deployments.map(dep => renderDeploymentTty(dep, deviceOf(dep.clientId), ctx, limit))], ctx)
}

export function renderStatusView(view: StatusView, ctx: OutputContext): string {
  if (view.scope === 'rollout') return renderRolloutDetail(view.rollout, ctx)
  const main = view.scope === 'fleet' ? renderOverview(view.overview, ctx) : renderTarget(view.target, ctx)
  const device = view.scope === 'target' && view.target.kind === 'device' ? view.target.devices[0]?.clientId : undefined
  const staged = (view.staged ?? []).map(s => renderProgress(s.name, s.progress, ctx, {...(device ? {clientId: device} : {}), limit: view.scope === 'fleet' ? 10 : 50}))
  return [main, ...staged].join(ctx.tty ? '\n\n' : '\n')
}

/**
 * The JSON document of `margo status` (and each line of `--watch --json`): the server's view as
 * is, with `rollouts` (staged rollouts, their waves and a reason code per device) when any concern it.
 */
export function statusViewJson(view: StatusView): FleetOverview | TargetStatus | RolloutDetail | Record<string, unknown> {
  if (view.scope === 'rollout') return view.rollout
  const base = view.scope === 'fleet' ? view.overview : view.target
  if (!view.staged?.length) return base
  const device = view.scope === 'target' && view.target.kind === 'device' ? view.target.devices[0]?.clientId : undefined
  return {...base, rollouts: view.staged.map(s => ({name: s.name, ...s.progress, notConverged: device ? s.progress.notConverged.filter(d => d.clientId === device) : s.progress.notConverged}))}
}

/** One line per `--watch --json` update. */
export function watchJsonLine(view: StatusView): string {
  return `${JSON.stringify(statusViewJson(view))}\n`
}

const CLEAR_SCREEN = '\u001B[H\u001B[2J\u001B[3J'

/** A full-screen frame of a terminal watch: clear, the view, a footer. */
export function watchFrame(view: StatusView, ctx: OutputContext): string {
  const footer = paint(`watching — updated ${ctx.now.toISOString().slice(11, 19)} UTC; Ctrl-C to stop`, 'dim', ctx)
  return `${CLEAR_SCREEN}${renderStatusView(view, ctx)}\n\n${footer}\n`
}

const summaryLine = (o: FleetOverview) => {
  const d = o.devices
  const states = byState(o).map(([s, n]) => `${s}=${n}`).join(' ')
  return `devices online=${d.online} stale=${d.stale} offline=${d.offline} pending=${d.pending} revoked=${d.revoked}\tdeployments total=${o.deployments.total}${states ? ` ${states}` : ''}`
}

function livenessChanges(prev: readonly DeviceLivenessView[], next: readonly DeviceLivenessView[], at: string, keepMissing: boolean): string[] {
  const before = new Map(prev.map(d => [d.clientId, d.liveness]))
  const after = new Map(next.map(d => [d.clientId, d.liveness]))
  const lines: string[] = []
  for (const d of next) if (before.get(d.clientId) !== d.liveness) lines.push(`${at}\tdevice\t${d.clientId}\t${d.liveness}\t${d.lastSeenAt ?? '-'}`)
  // The overview lists only devices that are not online: one that left the list came back.
  if (!keepMissing) for (const d of prev) if (!after.has(d.clientId)) lines.push(`${at}\tdevice\t${d.clientId}\tonline`)
  return lines
}

/**
 * What a piped `--watch` prints when the view changes: one tab-separated line per change,
 * starting with a timestamp. The first view (no `prev`) prints its current state.
 */
export function changeLines(prev: StatusView | undefined, next: StatusView): string[] {
  const staged = stagedChanges(prev, next)
  if (next.scope === 'rollout') return staged
  return [...viewChanges(prev, next), ...staged]
}

/** A line per staged rollout whose phase or wave progress changed. */
function stagedChanges(prev: StatusView | undefined, next: StatusView): string[] {
  const before = new Map((prev?.staged ?? []).map(s => [s.name, s.progress]))
  const at = new Date().toISOString()
  const lines: string[] = []
  for (const s of next.staged ?? []) {
    const p = before.get(s.name)
    const phase = phaseText(s.progress)
    if (!p || phaseText(p) !== phase) lines.push(`${at}	rollout	${s.name}	${phase}`)
    for (const w of s.progress.waves) {
      const old = p?.waves.find(x => x.wave === w.wave)
      if (!old || waveLine(old) !== waveLine(w)) lines.push(`${at}	wave	${s.name}	${waveLine(w).replace(/\t/g, ' ')}`)
    }
  }
  return lines.map(l => l.replace(/[\r\n]+/g, ' '))
}

function viewChanges(prev: StatusView | undefined, next: StatusView & {scope: 'fleet' | 'target'}): string[] {
  if (next.scope === 'fleet') {
    const o = next.overview
    const p = prev?.scope === 'fleet' ? prev.overview : undefined
    const at = o.generatedAt
    const lines: string[] = []
    if (!p || summaryLine(p) !== summaryLine(o)) lines.push(`${at}\tsummary\t${summaryLine(o)}`)
    const wasFailed = new Map(p?.failedDeployments.map(f => [f.deploymentId, f.reportedAt]) ?? [])
    for (const f of o.failedDeployments) {
      if (wasFailed.get(f.deploymentId) !== f.reportedAt) lines.push(`${f.reportedAt}\tfailed\t${f.deploymentId}\t${f.appId}@${f.appVersion}\t${f.clientId}\t${errorText(f.error)}`)
    }
    lines.push(...livenessChanges(p?.staleOrOfflineDevices ?? [], o.staleOrOfflineDevices, at, false))
    return lines.map(l => l.replace(/[\r\n]+/g, ' '))
  }
  const t = next.target
  const p = prev?.scope === 'target' ? prev.target : undefined
  const before = new Map(p?.deployments.map(d => [d.deploymentId, `${d.state}|${d.reportedAt}|${d.desired}`]) ?? [])
  const lines: string[] = []
  for (const d of t.deployments) {
    if (before.get(d.deploymentId) === `${d.state}|${d.reportedAt}|${d.desired}`) continue
    const error = errorText(d.error ?? d.components.find(c => c.error)?.error)
    lines.push(`${d.reportedAt ?? t.generatedAt}\tdeployment\t${d.deploymentId}\t${d.appId}@${d.appVersion}\t${d.clientId}\t${d.state}${d.desired === 'absent' ? ' (removing)' : ''}\t${error}`)
  }
  lines.push(...livenessChanges(p?.devices ?? [], t.devices, t.generatedAt, true))
  return lines.map(l => l.replace(/[\r\n]+/g, ' '))
}

export type WatchMode = 'json' | 'tty' | 'lines'

export function watchMode(flags: {json: boolean}, ctx: Pick<OutputContext, 'tty'>): WatchMode {
  return flags.json ? 'json' : ctx.tty ? 'tty' : 'lines'
}

/** What `--watch` writes for a new view: a JSON line, a redrawn screen, or the change lines. */
export function watchUpdate(mode: WatchMode, prev: StatusView | undefined, next: StatusView, ctx: OutputContext): string {
  if (mode === 'json') return watchJsonLine(next)
  if (mode === 'tty') return watchFrame(next, ctx)
  const lines = changeLines(prev, next)
  return lines.length ? `${lines.join('\n')}\n` : ''
}

/** Warnings of a long watch: one stderr line per distinct problem, not one per retry. */
export function warningReporter(write: (line: string) => void): (err: Error) => void {
  let last = ''
  return err => {
    const line = `warning: ${err.message.split('\n')[0]}`
    if (line === last) return
    last = line
    write(`${line}\n`)
  }
}
