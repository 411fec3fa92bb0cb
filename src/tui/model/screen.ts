/**
 * The screen as lines: title bar, column header or breadcrumb, body, message line and key hints.
 * Every line is cut to the terminal width and the body to the rows left, so 80×24 shows a
 * complete, unwrapped frame.
 */
import type {App, Deployment, DeploymentWithTimeline, Device, DeviceWithDeployments} from '../../operator-contract/views.ts'
import {fields, keepsSelector, type DeployForm} from './deploy-form.ts'
import {ago, type ColumnSpec, layoutColumns, measureColumns, naturalWidth, shortId, truncate} from './format.ts'
import {type Hint, hintLine, QUIT, QUIT_ANYWHERE} from './hints.ts'
import {clip, highlight, type Line, row, type Segment, text} from './lines.ts'
import {deviceLiveness} from './liveness.ts'
import {COLUMNS, deploymentState, deploymentStateLabel, isRemoved, stateTone, visibleDeployments} from './panes.ts'
import {abortPromptLine, phaseDetail, phaseTone, reasonsFor, rolloutPhase, type RolloutRow, rolloutRows, strategyText, waveBar, waveNote, waveTone, whyText, whyTone} from './rollouts.ts'
import {cursorIndex, currentView, deviceDeployments, findRollout, PANES, paneItems, selectedPendingDevice, type TuiState} from './state.ts'
import {undeployPrompt} from './undeploy.ts'

export interface Size {
  columns: number
  rows: number
}

export interface Screen {
  lines: Line[]
}

const PANE_TITLE = {devices: 'Devices', apps: 'Apps', deployments: 'Deployments', rollouts: 'Rollouts'} as const
/** For a title bar that would push the stream status off an 80-column screen. */
const SHORT_TITLE = {devices: 'Devices', apps: 'Apps', deployments: 'Deploys', rollouts: 'Rollouts'} as const
const MIN = {columns: 40, rows: 10}
/** App@version, profile, state, desired, reported: a table without a header row, so only the cells count. */
const DEVICE_DEPLOYMENT_COLUMNS: ColumnSpec[] = [{header: '', flex: true, min: 12}, {header: '', flex: true, min: 4}, {header: '', flex: true, min: 6}, {header: ''}, {header: ''}]

function paneCount(state: TuiState, pane: keyof typeof PANE_TITLE): number {
  if (pane === 'devices') return state.data.devices.length
  if (pane === 'apps') return state.data.apps.length
  if (pane === 'rollouts') return state.data.rollouts.length
  return visibleDeployments(state.data.deployments, {showRemoved: state.showRemoved}).length
}

function titleBar(state: TuiState, width: number): Line {
  const status = state.stream === 'live' ? text('● live', 'green') : state.stream === 'down' ? text('○ polling 5s', 'yellow') : text('… connecting', 'dim')
  const build = (titles: Record<keyof typeof PANE_TITLE, string>): Line => {
    const line: Line = [text(' margo ', 'bold')]
    PANES.forEach((pane, i) => {
      const label = ` ${i + 1} ${titles[pane]} ${paneCount(state, pane)} `
      line.push(text(' '))
      line.push(pane === state.pane ? {text: label, tone: 'cyan', inverse: true} : text(label, 'dim'))
    })
    return line
  }
  const room = (line: Line) => width - line.reduce((n, s) => n + s.text.length, 0) - status.text.length - 1
  const full = build(PANE_TITLE)
  const line = room(full) >= 1 ? full : build(SHORT_TITLE)
  const gap = room(line)
  if (gap >= 1) line.push(text(' '.repeat(gap)), status)
  return line
}

/** Rows `offset..offset+height` of a list, scrolled so the cursor stays visible. */
export function scrollWindow(count: number, cursor: number, height: number): {offset: number, end: number} {
  if (count <= height) return {offset: 0, end: count}
  const offset = Math.min(Math.max(0, cursor - Math.floor(height / 2)), count - height)
  return {offset, end: offset + height}
}

/**
 * A table fitted to `width`: columns measured on the rows shown, the widest flexible column cut
 * first. The one-column left margin is cosmetic and gives way before any content is cut.
 */
function table(specs: readonly ColumnSpec[], rows: readonly (readonly Segment[])[], width: number, indent: string): {widths: number[], margin: Segment[]} {
  const columns = measureColumns(specs, rows.map(cells => cells.map(c => c.text)))
  const roomy = naturalWidth(columns) + indent.length <= width
  const margin = roomy || indent.length === 0 ? indent : indent.slice(1)
  return {widths: layoutColumns(columns, width - margin.length), margin: margin ? [text(margin)] : []}
}

function listBody(state: TuiState, width: number, height: number): {header: Line, body: Line[]} {
  const specs = COLUMNS[state.pane]
  const items = paneItems(state)
  const cursor = cursorIndex(state)
  const {offset, end} = scrollWindow(items.length, cursor, height)
  const visible = state.loaded ? items.slice(offset, end) : []
  const {widths, margin} = table(specs, visible.map(item => item.cells), width, ' ')
  const header = [...margin, ...row(specs.map(c => text(c.header, 'bold')), widths)]
  if (!state.loaded) return {header, body: [[text(' loading…', 'dim')]]}
  if (items.length === 0) {
    const hidden = hiddenNote(state)
    const empty = state.filter[state.pane]
      ? `no ${state.pane} match "${state.filter[state.pane]}" — Esc clears the filter`
      : state.pane === 'devices'
        ? 'no devices yet — start an agent: margo agent --server <url>'
        : state.pane === 'apps'
          ? 'no apps yet — publish one: margo app publish margo.yaml'
          : state.pane === 'rollouts'
            ? 'no rollouts yet — deploy an app (2, d) or stage one: margo deploy APP --wave 1 --wave 10%'
          : hidden
            ? `no deployments to show — ${hidden}`
            : 'no deployments yet — press 2, pick an app and press d'
    return {header, body: [[text(` ${empty}`, 'dim')]]}
  }
  const body = visible.map((item, i) => {
    const line = [...margin, ...row(item.cells, widths)]
    return offset + i === cursor ? highlight(line, width) : line
  })
  return {header, body}
}

function kv(label: string, value: string, tone?: Parameters<typeof text>[1]): Line {
  return [text(`  ${label.padEnd(13)}`, 'dim'), text(value, tone)]
}

function timelineLines(entries: readonly {at: string, label: string, tone?: Parameters<typeof text>[1]}[], now: number): Line[] {
  return entries.map(e => [text(`  ${ago(e.at, now).padEnd(9)}`, 'dim'), text(e.label, e.tone)])
}

/** Events in a device's life, newest first: onboarding, capability reports, deployment reports. */
export function deviceTimeline(device: Device, deployments: readonly Deployment[]): {at: string, label: string, tone?: Parameters<typeof text>[1]}[] {
  const out: {at: string, label: string, tone?: Parameters<typeof text>[1]}[] = [{at: device.onboardedAt, label: 'onboarded'}]
  if (device.capabilitiesUpdatedAt) out.push({at: device.capabilitiesUpdatedAt, label: 'capabilities reported'})
  for (const d of deployments) {
    out.push({at: d.createdAt, label: `${d.appId} deployment created`})
    if (d.updatedAt !== d.createdAt) out.push({at: d.updatedAt, label: `${d.appId} ${d.desired === 'absent' ? 'undeploy requested' : 'deployment updated'}`})
    if (d.status) out.push({at: d.status.reportedAt, label: `${d.appId} reported ${deploymentStateLabel(d)}`, ...(stateTone(d.status.state) ? {tone: stateTone(d.status.state)!} : {})})
  }
  return out.sort((a, b) => b.at.localeCompare(a.at))
}

function deviceBody(state: TuiState, clientId: string, width: number, height: number): Line[] {
  const device: Device | DeviceWithDeployments | undefined = state.details.device?.clientId === clientId ? state.details.device : state.data.devices.find(d => d.clientId === clientId)
  if (!device) return [[text(' loading…', 'dim')]]
  const live = deviceLiveness(device, state.now)
  const p = device.capabilities?.properties
  const cpu = p?.resources?.cpu
  const arch = cpu?.architectures ?? (Array.isArray(cpu?.architecture) ? cpu.architecture : cpu?.architecture ? [cpu.architecture] : [])
  const resources = [cpu?.cores ? `cpu ${cpu.cores}${arch.length ? ` ${arch.join('/')}` : ''}` : '', p?.resources?.memory ? `memory ${p.resources.memory}` : '', p?.resources?.storage ? `storage ${p.resources.storage}` : ''].filter(Boolean).join(' · ')
  const peripherals = [...(p?.resources?.peripherals ?? []).map(x => x.type), ...(p?.resources?.interfaces ?? []).map(x => x.type)].join(', ')
  const labels = Object.entries(device.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(' ')
  const head: Line[] = [
    [text(` Device ${device.clientId}`, 'bold')],
    [...kv('Enrollment', device.enrollment, stateTone(device.enrollment)), text('   Liveness ', 'dim'), text(live.label, live.tone), text(device.lastSeenAt ? ` (seen ${ago(device.lastSeenAt, state.now)})` : '', 'dim')],
    [...kv('Onboarded', ago(device.onboardedAt, state.now)), text('   Manifest ', 'dim'), text(`v${device.manifestVersion}`)],
    kv('Certificate', `${device.certificate.keyType} ${device.certificate.subject} ${shortId(device.certificate.fingerprint, 19)} expires ${ago(device.certificate.notAfter, state.now)}`),
    kv('Capabilities', device.capabilities ? [p?.vendor, p?.modelNumber, p?.serialNumber, p?.roles?.length ? `roles ${p.roles.join(',')}` : ''].filter(Boolean).join(' · ') || 'reported' : 'not reported yet', device.capabilities ? undefined : 'yellow'),
    ...(resources ? [kv('Resources', resources)] : []),
    ...(peripherals ? [kv('Peripherals', peripherals)] : []),
    kv('Labels', labels || 'none', labels ? undefined : 'dim'),
    // Why a staged rollout has not reached this device yet: the one reason per rollout.
    ...reasonsFor(state.data.rollouts, device.clientId).map(r => [...kv('Rollout', `${r.name} (wave ${r.wave}): `), text(whyText(r.reason, state.now), whyTone(r.reason))]),
  ]
  const deployments = deviceDeployments(state, clientId)
  const cursor = Math.max(0, deployments.findIndex(d => d.deploymentId === state.detailSelected))
  const cells = deployments.map(d => [
    text(`${d.appId}@${d.appVersion}`),
    text(d.profile.type),
    text(deploymentStateLabel(d), stateTone(deploymentState(d))),
    text(d.desired, d.desired === 'absent' ? 'dim' : undefined),
    text(d.status ? ago(d.status.reportedAt, state.now).replace(/ ago$/, '') : '—'),
  ])
  const {widths, margin} = table(DEVICE_DEPLOYMENT_COLUMNS, cells, width, '   ')
  const depLines: Line[] = deployments.length === 0
    ? [[text('  none — press d to pick an app to deploy here', 'dim')]]
    : cells.map((c, i) => {
        const line = [...margin, ...row(c, widths)]
        return i === cursor ? highlight(line, width) : line
      })
  const timeline = deviceTimeline(device, deployments)
  const room = height - head.length - 2 - depLines.length
  // The deployments come first: they are what the user acts on; the timeline takes what is left.
  const shownDeps = room >= 1 ? depLines : depLines.slice(Math.max(0, cursor - (height - head.length - 2) + 1)).slice(0, Math.max(1, height - head.length - 1))
  return [
    ...head,
    [text(` Deployments ${deployments.length}`, 'bold')],
    ...shownDeps,
    ...(room >= 2 ? [[text(' Timeline', 'bold')] as Line, ...timelineLines(timeline, state.now).slice(0, room - 1)] : []),
  ]
}

function deploymentBody(state: TuiState, deploymentId: string): Line[] {
  const detail: DeploymentWithTimeline | undefined = state.details.deployment?.deploymentId === deploymentId ? state.details.deployment : undefined
  const d: Deployment | undefined = detail ?? state.data.deployments.find(x => x.deploymentId === deploymentId)
  if (!d) return [[text(' loading…', 'dim')]]
  const device = state.data.devices.find(x => x.clientId === d.clientId)
  const live = device ? deviceLiveness(device, state.now) : undefined
  const state_ = deploymentState(d)
  const error = d.status?.error && 'code' in d.status.error ? d.status.error : undefined
  const values = Object.entries(d.values ?? {}).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')
  const lines: Line[] = [
    [text(` Deployment ${d.deploymentId}`, 'bold')],
    kv('App', `${d.appId} ${d.appVersion}`),
    kv('Profile', `${d.profile.type} (${d.profile.id})`),
    [...kv('Device', d.clientId), ...(live ? [text(' '), text(live.label, live.tone)] : [])],
    [...kv('State', deploymentStateLabel(d), stateTone(state_)), text(d.status ? `  reported ${ago(d.status.reportedAt, state.now)}` : '  the device has not reported yet', 'dim')],
    [...kv('Desired', d.desired, d.desired === 'absent' ? 'yellow' : undefined), text(`  updated ${ago(d.updatedAt, state.now)}`, 'dim')],
    kv('Values', values || 'none', values ? undefined : 'dim'),
    kv('Last error', error ? `${error.code}: ${error.message}` : 'none', error ? 'red' : 'dim'),
    kv('Digest', d.digest, 'dim'),
    [text(' Components', 'bold')],
  ]
  const components = d.status?.components ?? []
  if (components.length === 0) lines.push([text('  none reported yet', 'dim')])
  for (const c of components) {
    const cerr = c.error && 'code' in c.error ? ` ${c.error.code}: ${c.error.message}` : ''
    lines.push([text(`  ${c.name.padEnd(24)} `), text(c.state, stateTone(c.state)), text(cerr, 'red')])
  }
  lines.push([text(' Timeline (newest first)', 'bold')])
  const timeline = [...(detail?.timeline ?? [])].reverse()
  if (timeline.length === 0) lines.push([text(detail ? '  no reports yet' : '  loading…', 'dim')])
  lines.push(...timelineLines(timeline.map(e => ({at: e.at, label: e.state + (e.error ? ` — ${e.error.code}: ${e.error.message}` : ''), ...(stateTone(e.state) ? {tone: stateTone(e.state)!} : {})})), state.now))
  return lines
}

function appBody(state: TuiState, appId: string): Line[] {
  const app: App | undefined = state.details.app?.appId === appId ? state.details.app : undefined
  const summary = app ?? state.data.apps.find(a => a.appId === appId)
  if (!summary) return [[text(' loading…', 'dim')]]
  const lines: Line[] = [
    [text(` App ${summary.appId}`, 'bold'), text(` — ${summary.name}`)],
    kv('Latest', summary.latestVersion),
    kv('Versions', summary.versions.map(v => v.version).join(', ')),
    kv('Profiles', [...new Set(summary.versions.flatMap(v => v.profiles.map(p => p.type)))].join(', ')),
  ]
  const meta = app?.description.metadata
  if (meta?.catalog?.application?.tagline) lines.push(kv('Tagline', meta.catalog.application.tagline))
  if (meta?.description) lines.push(kv('Description', meta.description))
  lines.push([text(' Parameters', 'bold')])
  const params = Object.entries(app?.description.parameters ?? {})
  if (!app) lines.push([text('  loading…', 'dim')])
  else if (params.length === 0) lines.push([text('  none', 'dim')])
  for (const [name, p] of params) lines.push(kv(name, p.value === undefined ? '(no default)' : `default ${JSON.stringify(p.value)}`))
  const deployments = visibleDeployments(state.data.deployments.filter(d => d.appId === appId), {showRemoved: state.showRemoved})
  lines.push([text(` Deployments ${deployments.length}`, 'bold')])
  for (const d of deployments) lines.push([text(`  ${shortId(d.clientId)} ${d.appVersion.padEnd(8)} `, isRemoved(d) ? 'dim' : undefined), text(deploymentStateLabel(d), isRemoved(d) ? 'dim' : stateTone(deploymentState(d)))])
  return lines
}

function waveLabel(row: RolloutRow & {kind: 'wave'}): string {
  return `Wave ${row.wave.wave} (${row.wave.spec})`
}

/**
 * A rollout: its phase and strategy, then each wave with its bar and the devices that have not
 * converged with their one reason, then the converged devices. The cursor moves over the
 * devices; the head stays while the rows scroll.
 */
function rolloutBody(state: TuiState, name: string, width: number, height: number): Line[] {
  const r = findRollout(state, name)
  if (!r) return [[text(' loading…', 'dim')]]
  const phase = rolloutPhase(r)
  const target = r.selector === null ? `devices ${r.devices.map(d => shortId(d)).join(' ')}` : r.selector === '' ? 'every device' : `selector ${r.selector}`
  const head: Line[] = [
    [text(` Rollout ${r.name}`, 'bold'), text(`  ${r.appId}@${r.appVersion ?? '?'} · revision ${r.revision}`, 'dim')],
    kv('Phase', phaseDetail(r, state.now), phaseTone(phase)),
    kv('Target', `${target} · ${r.targets.length} deployment${r.targets.length === 1 ? '' : 's'}${r.skipped.length ? ` · ${r.skipped.length} skipped` : ''}`),
    ...(r.strategy
      ? [kv('Waves', strategyText(r.strategy, r.progress?.waves ?? []).waves), kv('Limits', strategyText(r.strategy, r.progress?.waves ?? []).limits)]
      : [kv('Waves', 'none: all devices at once', 'dim')]),
  ]
  const rows = rolloutRows(r)
  const labelWidth = Math.min(24, Math.max(0, ...rows.map(x => (x.kind === 'wave' ? waveLabel(x).length : 0))))
  const devices = rows.flatMap((x, i) => (x.kind === 'device' ? [i] : []))
  const selected = rows.findIndex(x => x.kind === 'device' && x.clientId === state.rolloutSelected)
  const cursor = selected >= 0 ? selected : devices[0] ?? -1
  const lines = rows.map((x, i): Line => {
    if (x.kind === 'wave') {
      const note = waveNote(x.wave)
      return [
        text(` ${truncate(waveLabel(x), labelWidth).padEnd(labelWidth)} `, x.current ? 'bold' : undefined),
        text(waveBar(x.wave), waveTone(x.wave)),
        text(` ${x.wave.done}/${x.wave.size}`),
        text(note ? `  ${note}` : '', x.wave.failed > 0 ? 'red' : 'dim'),
      ]
    }
    if (x.kind === 'converged') return [text(` Converged ${x.count}`, 'bold')]
    const status = x.reason ? text(whyText(x.reason, state.now), whyTone(x.reason)) : text(x.state ?? '', stateTone(x.state ?? ''))
    const line: Line = [text(`   ${shortId(x.clientId)}  `), status]
    return i === cursor ? highlight(line, width) : line
  })
  const room = Math.max(1, height - head.length)
  const win = scrollWindow(lines.length, Math.max(0, cursor), room)
  return [...head, ...lines.slice(win.offset, win.end)]
}

function formBody(form: DeployForm, width: number, height: number): Line[] {
  const all = fields(form)
  const focus = all[form.focus]
  const mark = (focused: boolean, line: Line): Line => (focused ? highlight([text(' ▸ ', 'cyan'), ...line], width) : [text('   '), ...line])
  const r = form.rollout
  const lines: Line[] = [r
    ? [text(` Update rollout ${r.name} `, 'bold'), text(`${form.appName} · revision ${r.revision} · ${r.version ?? `latest (${form.version})`}`, 'dim')]
    : [text(` Deploy ${form.appName} `, 'bold'), text(`${form.appId} ${form.version}`, 'dim')]]
  if (keepsSelector(form)) {
    lines.push([text(' Target', 'bold'), text(`  selector ${r!.selector === '' ? '(every device)' : r!.selector} · kept`, 'dim')])
  } else {
    lines.push([text(' Targets', 'bold'), text(`  ${form.chosen.length} chosen · Space toggles`, 'dim')])
    const targetRows = Math.max(1, Math.min(form.targets.length, height - 8 - form.params.length))
    const targetFocus = focus?.kind === 'target' ? form.focus : 0
    const win = scrollWindow(form.targets.length, targetFocus, targetRows)
    if (form.targets.length === 0) lines.push([text('   no devices to deploy to', 'yellow')])
    form.targets.slice(win.offset, win.end).forEach((t, i) => {
      const index = win.offset + i
      const chosen = form.chosen.includes(t.clientId)
      lines.push(mark(form.focus === index, [text(chosen ? '[x] ' : '[ ] ', chosen ? 'green' : undefined), text(`${shortId(t.clientId)}  `), text(t.hint, 'dim')]))
    })
  }
  const profileFocused = focus?.kind === 'profile'
  lines.push(mark(profileFocused, [text('Profile   ', 'bold'), text(`◂ ${form.profiles[form.profile]} ▸`), text(profileFocused ? '  ←/→ change' : '', 'dim')]))
  if (form.params.length > 0) lines.push([text(' Parameters', 'bold')])
  const labelWidth = Math.min(16, Math.max(...form.params.map(p => p.label.length), 4))
  for (const p of form.params) {
    const focused = focus?.kind === 'param' && focus.name === p.name
    const errors = form.errors[p.name]
    const value = focused ? `${p.text}▏` : p.text || ' '
    if (p.readOnly) {
      lines.push([text('   '), text(`${p.label.slice(0, labelWidth).padEnd(labelWidth)}  `, 'dim'), text(value.padEnd(18), 'dim'), text(' immutable', 'dim')])
      continue
    }
    lines.push(mark(focused, [text(`${p.label.slice(0, labelWidth).padEnd(labelWidth)}  `), text(value.padEnd(18), errors ? 'red' : undefined), text(errors ? ` ✗ ${errors[0]}` : ' ✓', errors ? 'red' : 'green')]))
  }
  const action = r ? 'Update' : 'Deploy'
  lines.push(mark(focus?.kind === 'submit', [text(form.submitting ? `[ ${action === 'Update' ? 'updating' : 'deploying'}… ]` : `[ ${action} ]`, 'bold')]))
  if (form.problem) lines.push([text(` ${form.problem}`, 'red')])
  else if (focus?.kind === 'param') {
    const p = form.params.find(x => x.name === focus.name)
    if (p?.description) lines.push([text(` ${p.description}`, 'dim')])
  }
  return lines
}

const HELP: [string, string][] = [
  ['1 2 3 4 / Tab', 'devices, apps, deployments, rollouts (Shift+Tab back)'],
  ['↑ ↓  j k', 'move; g/G or Home/End: first/last; PgUp/PgDn'],
  ['Enter', 'open the device, deployment or app'],
  ['Esc  Backspace', 'back; in a list, clear the filter'],
  ['/', 'filter the list as you type (Enter keeps it, Esc clears)'],
  ['d', 'deploy the selected app (on a device: choose an app)'],
  ['u', 'undeploy the selected deployment (asks y/n)'],
  ['A', 'approve the selected pending device (shows its certificate fingerprint)'],
  ['a', 'show or hide removed deployments (dimmed when shown)'],
  ['p r x', 'on a rollout: pause, resume, abort (abort asks y/n)'],
  ['r  R', 'refresh now (R on the Rollouts pane, where r resumes)'],
  ['?', 'this help'],
  ['q  Ctrl+C', 'quit'],
  ['', ''],
  ['In the deploy form', ''],
  ['↑ ↓  Tab', 'next or previous field'],
  ['Space', 'toggle a target device; ←/→ change the profile'],
  ['Enter', 'deploy; Esc cancels'],
]

function helpBody(): Line[] {
  return [[text(' Keys', 'bold')], ...HELP.map(([k, v]) => (k && !v ? [text(` ${k}`, 'bold')] : [text(`  ${k.padEnd(16)}`, 'cyan'), text(v)]))]
}

function breadcrumb(state: TuiState): Line {
  const parts: string[] = [PANE_TITLE[state.pane]]
  for (const v of state.stack) {
    parts.push(v.kind === 'device' ? `device ${shortId(v.clientId)}` : v.kind === 'deployment' ? `deployment ${shortId(v.deploymentId)}` : v.kind === 'rollout' ? `rollout ${v.name}` : `app ${v.appId}`)
  }
  return [text(` ${parts.join(' › ')}`, 'dim')]
}

const h = (key: string, label: string, rank: number, terse?: boolean): Hint => (terse ? {key, label, rank, terse} : {key, label, rank})

/** The keys that work here, most important ranked lowest; the footer fits them to the width. */
function hints(state: TuiState): Hint[] {
  if (state.confirm) return [h('y', state.confirm.kind, 1), h('n', 'cancel', 1), QUIT_ANYWHERE]
  if (state.help) return [h('Esc/?/q', 'close help', 1), QUIT_ANYWHERE]
  if (state.form) return [h('↑↓/Tab', 'field', 4, true), h('Space', 'toggle', 3), h('←→', 'profile', 5), h('Enter', 'deploy', 1), h('Esc', 'cancel', 2), QUIT_ANYWHERE]
  if (state.filtering) return [h('type', 'to filter', 5), h('↑↓', 'move', 4, true), h('Enter', 'keep', 2), h('Esc', 'clear', 1), QUIT_ANYWHERE]
  const view = currentView(state)
  const help = h('?', 'help', 1)
  const removed = h('a', state.showRemoved ? 'hide removed' : 'show removed', 6)
  const approve = selectedPendingDevice(state) ? [h('A', 'approve', 2)] : []
  if (view?.kind === 'device') return [...approve, h('↑↓', 'deployment', 6, true), h('Enter', 'open', 4), h('u', 'undeploy', 2), h('d', 'deploy here', 2), removed, h('Esc', 'back', 3), h('r', 'refresh', 7), help, QUIT]
  if (view?.kind === 'deployment') return [h('u', 'undeploy', 2), h('r', 'refresh', 7), h('Esc', 'back', 3), help, QUIT]
  if (view?.kind === 'app') return [h('d', 'deploy', 2), removed, h('Esc', 'back', 3), h('r', 'refresh', 7), help, QUIT]
  const control = [h('p', 'pause', 2), h('r', 'resume', 2), h('x', 'abort', 2)]
  if (view?.kind === 'rollout') return [...control, h('↑↓', 'device', 6, true), h('Enter', 'open', 4), h('Esc', 'back', 3), h('R', 'refresh', 7), help, QUIT]
  if (state.pane === 'rollouts') return [h('Tab', 'pane', 9, true), h('↑↓', 'move', 8, true), h('Enter', 'open', 4), ...control, h('/', 'filter', 5), h('R', 'refresh', 7), help, QUIT]
  const action = state.pane === 'apps' ? [h('d', 'deploy', 2)] : state.pane === 'deployments' ? [h('u', 'undeploy', 2), removed] : approve
  return [h('Tab', 'pane', 9, true), h('↑↓', 'move', 8, true), h('Enter', 'open', 4), h('/', 'filter', 5), ...action, h('r', 'refresh', 7), help, QUIT]
}

/** Removed deployments the current list or view leaves out (none when they are shown). */
function hiddenRemoved(state: TuiState): number {
  if (state.showRemoved) return 0
  const view = currentView(state)
  const candidates = view?.kind === 'device'
    ? deviceDeployments({...state, showRemoved: true}, view.clientId)
    : view?.kind === 'app'
      ? state.data.deployments.filter(d => d.appId === view.appId)
      : !view && state.pane === 'deployments' ? state.data.deployments : []
  return candidates.filter(isRemoved).length
}

function hiddenNote(state: TuiState): string {
  const hidden = hiddenRemoved(state)
  return hidden > 0 ? `${hidden} removed deployment${hidden === 1 ? '' : 's'} hidden · a shows ${hidden === 1 ? 'it' : 'them'}` : ''
}

function messageLine(state: TuiState, width: number): Line {
  if (state.confirm) return [text(' '), ...(state.confirm.kind === 'undeploy' ? undeployPrompt(state.confirm, width - 1) : abortPromptLine(state.confirm.name, width - 1))]
  if (state.filtering) return [text(' /', 'cyan'), text(`${state.filter[state.pane]}▏`)]
  if (state.message) return [text(` ${state.message.text}`, state.message.tone === 'error' ? 'red' : 'cyan')]
  if (state.form) return [text('')]
  const note = hiddenNote(state)
  if (!currentView(state) && state.filter[state.pane]) {
    return [text(` filter "${state.filter[state.pane]}": ${paneItems(state).length} shown · Esc clears${note ? ` · ${note}` : ''}`, 'dim')]
  }
  return [text(note ? ` ${note}` : '', 'dim')]
}

/** The frame for a terminal of `size`: exactly `rows - 1` lines, none wider than `columns`. */
export function buildScreen(state: TuiState, size: Size): Screen {
  const width = Math.max(MIN.columns, size.columns)
  const rows = Math.max(MIN.rows, size.rows) - 1
  const bodyHeight = rows - 4
  let second: Line
  let body: Line[]
  const view = currentView(state)
  if (state.help) {
    second = [text(' Help', 'dim')]
    body = helpBody()
  } else if (state.form) {
    second = [text(` Apps › deploy ${state.form.appId}`, 'dim')]
    body = formBody(state.form, width, bodyHeight)
  } else if (view) {
    second = breadcrumb(state)
    body = view.kind === 'device'
      ? deviceBody(state, view.clientId, width, bodyHeight)
      : view.kind === 'deployment' ? deploymentBody(state, view.deploymentId) : view.kind === 'rollout' ? rolloutBody(state, view.name, width, bodyHeight) : appBody(state, view.appId)
  } else {
    const list = listBody(state, width, bodyHeight)
    second = list.header
    body = list.body
  }
  const padded = [...body.slice(0, bodyHeight)]
  while (padded.length < bodyHeight) padded.push([text('')])
  // The footer fits the real width, below the minimum too: the way out must stay on screen.
  const lines = [titleBar(state, width), second, ...padded, messageLine(state, size.columns), hintLine(hints(state), size.columns)]
  return {lines: lines.map(l => clip(l, size.columns))}
}
