/** The four lists (devices, apps, deployments, rollouts): their rows, columns and the `/` filter. */
import type {AppSummary, Deployment, Device} from '../../operator-contract/views.ts'
import {type ColumnSpec, shortId} from './format.ts'
import {text, type Segment, type Tone} from './lines.ts'
import {deviceLiveness} from './liveness.ts'
import {currentWave, phaseTone, type RolloutEntry, rolloutPhase, rolloutWaves, waveBar, waveNote, waveTone} from './rollouts.ts'
import {STATE_STYLE} from '../../cli/render/states.ts'

export interface PaneItem {
  id: string
  cells: Segment[]
  /** Lower-case text the filter searches: ids, names, labels, states. */
  search: string
}

export interface PaneData {
  devices: readonly Device[]
  apps: readonly AppSummary[]
  deployments: readonly Deployment[]
  rollouts: readonly RolloutEntry[]
}

export type ListPane = 'devices' | 'apps' | 'deployments' | 'rollouts'

/** The lists' columns; their widths come from the rows on screen (see measureColumns). */
export const COLUMNS: Record<ListPane, ColumnSpec[]> = {
  devices: [
    {header: 'DEVICE'},
    {header: 'ENROLLED'},
    {header: 'LIVENESS'},
    {header: 'APPS'},
    {header: 'DESCRIPTION', flex: true},
  ],
  apps: [
    {header: 'APP', flex: true},
    {header: 'NAME', flex: true},
    {header: 'LATEST', flex: true},
    {header: 'PROFILES', flex: true},
  ],
  deployments: [
    {header: 'APP', flex: true},
    {header: 'VER', flex: true},
    {header: 'DEVICE'},
    {header: 'PROFILE', flex: true},
    {header: 'STATE', flex: true},
    {header: 'DESIRED'},
  ],
  rollouts: [
    {header: 'ROLLOUT', flex: true},
    {header: 'APP', flex: true},
    {header: 'REV'},
    {header: 'PHASE'},
    {header: 'WAVE'},
    {header: 'PROGRESS'},
    {header: 'DONE'},
    {header: 'NOT YET', flex: true},
  ],
}

export function stateTone(state: string): Tone | undefined {
  return STATE_STYLE[state]
}

/** The state a deployment is in as far as the server knows; `unreported` until the device reports. */
export function deploymentState(d: Deployment): string {
  return d.status?.state ?? 'unreported'
}

/**
 * A deployment that is gone from its device: undeployed and reported removed, or undeployed
 * before the device ever reported it. One still being removed is not gone yet.
 */
export function isRemoved(d: Deployment): boolean {
  return d.desired === 'absent' && (d.status == null || d.status.state === 'removed' || d.removedUnconfirmedAt !== undefined)
}

/** What the lists leave out. */
export interface ListOptions {
  /** Removed deployments are hidden unless asked for. */
  showRemoved?: boolean
}

export function visibleDeployments<D extends Deployment>(deployments: readonly D[], options: ListOptions = {}): D[] {
  return options.showRemoved ? [...deployments] : deployments.filter(d => !isRemoved(d))
}

export function deploymentStateLabel(d: Deployment): string {
  const state = deploymentState(d)
  const code = d.status?.error && 'code' in d.status.error ? d.status.error.code : undefined
  return code ? `${state} (${code})` : state
}

/** What a device says about itself, for telling devices apart in one column. */
export function deviceSummary(d: Device): string {
  const p = d.capabilities?.properties
  const parts = [
    ...Object.entries(d.labels ?? {}).map(([k, v]) => `${k}=${v}`),
    [p?.vendor, p?.modelNumber].filter(Boolean).join(' '),
    d.certificate?.subject?.replace(/^CN=/, ''),
  ]
  return parts.filter(Boolean).join(' · ')
}

function deviceItem(d: Device, deployments: readonly Deployment[], now: number): PaneItem {
  const live = deviceLiveness(d, now)
  const apps = deployments.filter(x => x.clientId === d.clientId && x.desired === 'present').length
  const summary = deviceSummary(d)
  return {
    id: d.clientId,
    cells: [text(shortId(d.clientId)), text(d.enrollment, stateTone(d.enrollment)), text(live.label, live.tone), text(String(apps)), text(summary, live.state === 'online' ? undefined : 'dim')],
    search: [d.clientId, d.enrollment, live.label, summary].join(' ').toLowerCase(),
  }
}

function appItem(a: AppSummary): PaneItem {
  const latest = a.versions.find(v => v.version === a.latestVersion) ?? a.versions.at(-1)
  const profiles = [...new Set((latest?.profiles ?? []).map(p => p.type))].join(', ')
  return {
    id: a.appId,
    cells: [text(a.appId), text(a.name), text(a.latestVersion), text(profiles)],
    search: [a.appId, a.name, a.latestVersion, profiles].join(' ').toLowerCase(),
  }
}

function deploymentItem(d: Deployment): PaneItem {
  const state = deploymentState(d)
  const label = deploymentStateLabel(d)
  // A removed deployment is history: shown at all only on request, and then dimmed.
  const tone = (own: Tone | undefined) => (isRemoved(d) ? 'dim' : own)
  return {
    id: d.deploymentId,
    cells: [
      text(d.appId, tone(undefined)),
      text(d.appVersion, tone(undefined)),
      text(shortId(d.clientId), tone(undefined)),
      text(d.profile.type, tone(undefined)),
      text(label, tone(stateTone(state))),
      text(d.desired, d.desired === 'absent' ? 'dim' : undefined),
    ],
    search: [d.deploymentId, d.appId, d.appVersion, d.clientId, d.profile.type, d.profile.id, label, d.desired].join(' ').toLowerCase(),
  }
}

/** A rollout's row: the bar and counts are those of the wave it is at. */
function rolloutItem(r: RolloutEntry): PaneItem {
  const phase = rolloutPhase(r)
  const {wave, of} = currentWave(r)
  const w = rolloutWaves(r)[wave - 1]!
  const note = waveNote(w)
  return {
    id: r.name,
    cells: [
      text(r.name),
      text(r.appId),
      text(String(r.revision)),
      text(phase, phaseTone(phase)),
      text(r.progress ? `${wave}/${of}` : 'all'),
      text(waveBar(w), waveTone(w)),
      text(`${w.done}/${w.size}`),
      text(note, w.failed > 0 ? 'red' : 'dim'),
    ],
    search: [r.name, r.rolloutId, r.appId, r.appVersion ?? '', phase, r.selector ?? '', ...(r.progress?.notConverged ?? []).map(d => `${d.clientId} ${d.reason.code}`)].join(' ').toLowerCase(),
  }
}

export function paneRows(pane: ListPane, data: PaneData, now: number, options: ListOptions = {}): PaneItem[] {
  switch (pane) {
    case 'devices':
      return [...data.devices]
        .sort((a, b) => a.onboardedAt.localeCompare(b.onboardedAt) || a.clientId.localeCompare(b.clientId))
        .map(d => deviceItem(d, data.deployments, now))
    case 'apps':
      return [...data.apps].sort((a, b) => a.appId.localeCompare(b.appId)).map(appItem)
    case 'deployments':
      return visibleDeployments(data.deployments, options)
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.deploymentId.localeCompare(b.deploymentId))
        .map(deploymentItem)
    case 'rollouts':
      return [...data.rollouts].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.name.localeCompare(b.name)).map(rolloutItem)
  }
}

/** Every word of the filter must occur somewhere in the row (case-insensitive). */
export function matchesFilter(item: PaneItem, filter: string): boolean {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean)
  return words.every(w => item.search.includes(w))
}

export function filteredItems(pane: ListPane, data: PaneData, filter: string, now: number, options: ListOptions = {}): PaneItem[] {
  const rows = paneRows(pane, data, now, options)
  return filter.trim() === '' ? rows : rows.filter(r => matchesFilter(r, filter))
}
