/**
 * The whole TUI as one pure state machine: keys and loaded data go in, the next state comes
 * out, together with the effects (loads, deploys, quit) the shell must run. Several keys can
 * arrive in one chunk, so every decision is taken here on the latest state, never in a handler
 * that may hold an older one.
 */
import type {App, AppSummary, Deployment, DeploymentWithTimeline, Device, DeviceWithDeployments, Rollout, RolloutResult} from '../../operator-contract/views.ts'
import type {RolloutRequest} from '../../operator-contract/requests.ts'
import type {RolloutProgress} from '../../operator-contract/strategy.ts'
import {type DeployForm, createDeployForm, formKey, formRejected} from './deploy-form.ts'
import {isBack, isDown, isErase, isUp, type KeyPress, typed} from './keys.ts'
import {deviceLiveness} from './liveness.ts'
import {filteredItems, type PaneItem, visibleDeployments} from './panes.ts'
import {abortQuestion, controlRefusal, type RolloutControl, type RolloutEntry, rolloutDevices} from './rollouts.ts'
import {type UndeployTarget, undeployQuestion} from './undeploy.ts'

export type Pane = 'devices' | 'apps' | 'deployments' | 'rollouts'
export const PANES: readonly Pane[] = ['devices', 'apps', 'deployments', 'rollouts']

export type View =
  | {kind: 'device', clientId: string}
  | {kind: 'deployment', deploymentId: string}
  | {kind: 'app', appId: string}
  | {kind: 'rollout', name: string}

export interface FleetData {
  devices: Device[]
  apps: AppSummary[]
  deployments: Deployment[]
  /** Each with its detail: targets, and for a staged rollout its waves and reasons. */
  rollouts: RolloutEntry[]
}

export interface Details {
  device?: DeviceWithDeployments
  deployment?: DeploymentWithTimeline
  app?: App
  rollout?: RolloutEntry
}

/** A question waiting for y/n; `question` is its full wording. */
export type Confirm =
  | (UndeployTarget & {kind: 'undeploy', question: string})
  | {kind: 'abort', name: string, question: string}

/** `live`: changes arrive on the event stream; `down`: the stream failed and the lists are polled. */
export type StreamStatus = 'connecting' | 'live' | 'down'

export type Effect =
  | {id: number, kind: 'refresh'}
  | {id: number, kind: 'load', view: View}
  | {id: number, kind: 'openForm', appId: string}
  | {id: number, kind: 'deploy', request: RolloutRequest}
  | {id: number, kind: 'undeploy', deploymentId: string}
  | {id: number, kind: 'approve', clientId: string}
  | {id: number, kind: 'control', name: string, action: RolloutControl}
  | {id: number, kind: 'quit'}

type EffectSpec = Effect extends infer E ? (E extends {id: number} ? Omit<E, 'id'> : never) : never

export interface Message {
  text: string
  tone: 'info' | 'error'
}

export interface TuiState {
  pane: Pane
  /** Selection by id, so it stays on the same row when live updates reorder a list. */
  selected: Record<Pane, string | undefined>
  filter: Record<Pane, string>
  filtering: boolean
  /** Drill-down views, innermost last; empty shows the pane's list. */
  stack: View[]
  /** The deployment selected inside a device view. */
  detailSelected: string | undefined
  data: FleetData
  loaded: boolean
  details: Details
  form: DeployForm | undefined
  /** An app whose description is being fetched for the deploy form. */
  formLoading: string | undefined
  /** The undeploy or abort waiting for y/n. */
  confirm: Confirm | undefined
  /** The device selected inside a rollout view. */
  rolloutSelected: string | undefined
  help: boolean
  /** Removed deployments are listed too (dimmed); off by default. */
  showRemoved: boolean
  message: Message | undefined
  stream: StreamStatus
  /** Clock for ages and liveness, advanced by ticks so renders stay pure. */
  now: number
  effects: Effect[]
  nextEffect: number
}

export type Action =
  | {type: 'key', key: KeyPress}
  /** Without `rollouts` (a server that cannot list them), the rollouts shown stay as they were. */
  | {type: 'data', data: Omit<FleetData, 'rollouts'> & {rollouts?: RolloutEntry[]}, at: number}
  | {type: 'loadFailed', message: string}
  | {type: 'detail', view: View, details: Details}
  | {type: 'formReady', app: App, rollout?: Rollout}
  | {type: 'deployed', result: RolloutResult}
  | {type: 'deployFailed', message: string, details?: {path: string, message: string}[]}
  | {type: 'undeployed', deployment: Deployment}
  | {type: 'approved', device: Device}
  | {type: 'controlled', name: string, action: RolloutControl, progress: RolloutProgress}
  | {type: 'actionFailed', message: string}
  | {type: 'stream', status: StreamStatus}
  | {type: 'tick', now: number}
  | {type: 'effectsDone', upTo: number}

export function initialState(now: number): TuiState {
  return {
    pane: 'devices',
    selected: {devices: undefined, apps: undefined, deployments: undefined, rollouts: undefined},
    filter: {devices: '', apps: '', deployments: '', rollouts: ''},
    filtering: false,
    stack: [],
    detailSelected: undefined,
    data: {devices: [], apps: [], deployments: [], rollouts: []},
    loaded: false,
    details: {},
    form: undefined,
    formLoading: undefined,
    confirm: undefined,
    rolloutSelected: undefined,
    help: false,
    showRemoved: false,
    message: undefined,
    stream: 'connecting',
    now,
    effects: [{id: 1, kind: 'refresh'}],
    nextEffect: 2,
  }
}

function withEffect(state: TuiState, effect: EffectSpec): TuiState {
  return {...state, effects: [...state.effects, {...effect, id: state.nextEffect} as Effect], nextEffect: state.nextEffect + 1}
}

export function currentView(state: TuiState): View | undefined {
  return state.stack.at(-1)
}

export function paneItems(state: TuiState, pane: Pane = state.pane): PaneItem[] {
  return filteredItems(pane, state.data, state.filter[pane], state.now, {showRemoved: state.showRemoved})
}

/** Index of the selected row in the (filtered) list; the first row when the selection is gone. */
export function cursorIndex(state: TuiState, pane: Pane = state.pane): number {
  const items = paneItems(state, pane)
  const i = items.findIndex(it => it.id === state.selected[pane])
  return Math.max(i, 0)
}

export function selectedItem(state: TuiState, pane: Pane = state.pane): PaneItem | undefined {
  return paneItems(state, pane)[cursorIndex(state, pane)]
}

function select(state: TuiState, pane: Pane, index: number): TuiState {
  const items = paneItems(state, pane)
  if (items.length === 0) return state
  const clamped = Math.max(0, Math.min(items.length - 1, index))
  return {...state, selected: {...state.selected, [pane]: items[clamped]!.id}}
}

/** The deployments a device view lists (newest data: the device detail, else the fleet list). */
export function deviceDeployments(state: TuiState, clientId: string): Deployment[] {
  const detail = state.details.device
  const list = detail?.clientId === clientId ? detail.deployments : state.data.deployments.filter(d => d.clientId === clientId)
  return visibleDeployments(list, {showRemoved: state.showRemoved}).sort((a, b) => a.appId.localeCompare(b.appId) || a.createdAt.localeCompare(b.createdAt))
}

function detailIndex(state: TuiState, clientId: string): number {
  const i = deviceDeployments(state, clientId).findIndex(d => d.deploymentId === state.detailSelected)
  return Math.max(i, 0)
}

function open(state: TuiState, view: View): TuiState {
  const next: TuiState = {...state, stack: [...state.stack, view], message: undefined, ...(view.kind === 'device' ? {detailSelected: undefined} : view.kind === 'rollout' ? {rolloutSelected: undefined} : {})}
  return withEffect(next, {kind: 'load', view})
}

function back(state: TuiState): TuiState {
  const stack = state.stack.slice(0, -1)
  const next = {...state, stack}
  const view = stack.at(-1)
  return view ? withEffect(next, {kind: 'load', view}) : next
}

function switchPane(state: TuiState, pane: Pane): TuiState {
  return {...state, pane, stack: [], filtering: false, message: undefined}
}

function askUndeploy(state: TuiState, deployment: Deployment | undefined): TuiState {
  if (!deployment) return state
  if (deployment.desired === 'absent') return {...state, message: {text: 'this deployment is already being removed', tone: 'info'}}
  const target = {deploymentId: deployment.deploymentId, appId: deployment.appId, clientId: deployment.clientId}
  return {...state, confirm: {kind: 'undeploy', ...target, question: undeployQuestion(target)}}
}

/** The rollout a view or list row names: its own detail when loaded, else the list's entry. */
export function findRollout(state: TuiState, name: string | undefined): RolloutEntry | undefined {
  if (name === undefined) return undefined
  const d = state.details.rollout
  return d?.name === name ? d : state.data.rollouts.find(r => r.name === name)
}

/** Pause and resume go straight to the server; abort ends the run for good, so it asks first. */
function controlRollout(state: TuiState, name: string | undefined, action: RolloutControl): TuiState {
  const rollout = findRollout(state, name)
  if (!rollout) return state
  const refusal = controlRefusal(rollout, action)
  if (refusal) return {...state, message: {text: refusal, tone: 'error'}}
  if (action === 'abort') return {...state, confirm: {kind: 'abort', name: rollout.name, question: abortQuestion(rollout.name)}}
  return withEffect({...state, message: {text: `${action === 'pause' ? 'pausing' : 'resuming'} ${rollout.name}…`, tone: 'info'}}, {kind: 'control', name: rollout.name, action})
}

/** The device rows of a rollout view and the index of the selected one. */
function rolloutCursor(state: TuiState, name: string): {devices: string[], index: number} {
  const rollout = findRollout(state, name)
  const devices = rollout ? rolloutDevices(rollout) : []
  return {devices, index: Math.max(0, devices.indexOf(state.rolloutSelected ?? ''))}
}

function refresh(state: TuiState): TuiState {
  const view = currentView(state)
  const next = withEffect({...state, message: {text: 'refreshing…', tone: 'info'}}, {kind: 'refresh'})
  return view ? withEffect(next, {kind: 'load', view}) : next
}

function findDeployment(state: TuiState, id: string | undefined): Deployment | undefined {
  if (!id) return undefined
  const d = state.details.deployment
  if (d?.deploymentId === id) return d
  return state.data.deployments.find(x => x.deploymentId === id) ?? state.details.device?.deployments.find(x => x.deploymentId === id)
}

/** The devices the deploy form preselects: the one looked at last. */
function preselectedDevices(state: TuiState): string[] {
  const id = state.selected.devices ?? paneItems(state, 'devices')[0]?.id
  return id ? [id] : []
}

function openForm(state: TuiState, appId: string | undefined): TuiState {
  if (!appId) return state
  return withEffect({...state, formLoading: appId, message: {text: `loading ${appId}…`, tone: 'info'}}, {kind: 'openForm', appId})
}

function reduceKey(state: TuiState, key: KeyPress): TuiState {
  if (state.confirm) {
    const c = state.confirm
    if (key.input === 'y' || key.input === 'Y') {
      return c.kind === 'undeploy'
        ? withEffect({...state, confirm: undefined, message: {text: 'undeploying…', tone: 'info'}}, {kind: 'undeploy', deploymentId: c.deploymentId})
        : withEffect({...state, confirm: undefined, message: {text: `aborting ${c.name}…`, tone: 'info'}}, {kind: 'control', name: c.name, action: 'abort'})
    }
    if (key.input === 'n' || key.input === 'N' || key.escape || key.input === 'q') return {...state, confirm: undefined}
    return state
  }
  if (state.help) {
    if (key.input === '?' || key.input === 'q' || key.escape || key.return) return {...state, help: false}
    return state
  }
  if (state.form) {
    const outcome = formKey(state.form, key)
    if ('cancel' in outcome) return {...state, form: undefined, message: undefined}
    const next = {...state, form: outcome.form}
    return 'submit' in outcome ? withEffect(next, {kind: 'deploy', request: outcome.submit}) : next
  }
  if (state.filtering) {
    const pane = state.pane
    if (key.escape) return {...state, filtering: false, filter: {...state.filter, [pane]: ''}}
    if (key.return) return {...state, filtering: false}
    if (key.upArrow) return select(state, pane, cursorIndex(state) - 1)
    if (key.downArrow) return select(state, pane, cursorIndex(state) + 1)
    if (isErase(key)) return {...state, filter: {...state.filter, [pane]: [...state.filter[pane]].slice(0, -1).join('')}}
    const ch = typed(key)
    return ch === undefined ? state : {...state, filter: {...state.filter, [pane]: state.filter[pane] + ch}}
  }

  if (key.input === 'q' && !key.ctrl) return withEffect(state, {kind: 'quit'})
  if (key.input === '?') return {...state, help: true}
  if (key.input === 'a' && !key.ctrl) {
    const showRemoved = !state.showRemoved
    return {...state, showRemoved, message: {text: showRemoved ? 'showing removed deployments (dimmed)' : 'hiding removed deployments', tone: 'info'}}
  }
  // Where `r` resumes a rollout, `R` refreshes; it does everywhere else too.
  const rolloutHere = currentView(state)?.kind === 'rollout' || (!currentView(state) && state.pane === 'rollouts')
  if (key.input === 'R' || (key.input === 'r' && !key.ctrl && !rolloutHere)) return refresh(state)
  if (key.tab) {
    const i = PANES.indexOf(state.pane)
    return switchPane(state, PANES[(i + (key.shift ? PANES.length - 1 : 1)) % PANES.length]!)
  }
  const digit = ['1', '2', '3', '4'].indexOf(key.input)
  if (digit >= 0) return switchPane(state, PANES[digit]!)

  const view = currentView(state)
  if (view) {
    if (isBack(key)) return back(state)
    if (view.kind === 'device') {
      const list = deviceDeployments(state, view.clientId)
      const i = detailIndex(state, view.clientId)
      if (isUp(key) && list.length > 0) return {...state, detailSelected: list[Math.max(0, i - 1)]!.deploymentId}
      if (isDown(key) && list.length > 0) return {...state, detailSelected: list[Math.min(list.length - 1, i + 1)]!.deploymentId}
      if (key.return && list[i]) return open(state, {kind: 'deployment', deploymentId: list[i]!.deploymentId})
      if (key.input === 'u') return askUndeploy(state, list[i])
      if (key.input === 'd') return {...switchPane(state, 'apps'), message: {text: `choose an app and press d to deploy it to ${view.clientId.slice(0, 8)}…`, tone: 'info'}}
      if (key.input === 'A') return approve(state, view.clientId)
    }
    if (view.kind === 'deployment' && key.input === 'u') return askUndeploy(state, findDeployment(state, view.deploymentId))
    if (view.kind === 'app' && key.input === 'd') return openForm(state, view.appId)
    if (view.kind === 'rollout') {
      const {devices, index} = rolloutCursor(state, view.name)
      if (isUp(key) && devices.length > 0) return {...state, rolloutSelected: devices[Math.max(0, index - 1)]}
      if (isDown(key) && devices.length > 0) return {...state, rolloutSelected: devices[Math.min(devices.length - 1, index + 1)]}
      if (key.pageUp && devices.length > 0) return {...state, rolloutSelected: devices[Math.max(0, index - 10)]}
      if (key.pageDown && devices.length > 0) return {...state, rolloutSelected: devices[Math.min(devices.length - 1, index + 10)]}
      if (key.return && devices[index]) return open({...state, rolloutSelected: devices[index]}, {kind: 'device', clientId: devices[index]!})
      const action = ROLLOUT_KEYS[key.input]
      if (action) return controlRollout(state, view.name, action)
    }
    return state
  }

  const pane = state.pane
  if (key.input === '/') return {...state, filtering: true}
  if (key.escape && state.filter[pane] !== '') return {...state, filter: {...state.filter, [pane]: ''}}
  if (isUp(key)) return select(state, pane, cursorIndex(state) - 1)
  if (isDown(key)) return select(state, pane, cursorIndex(state) + 1)
  if (key.pageUp) return select(state, pane, cursorIndex(state) - 10)
  if (key.pageDown) return select(state, pane, cursorIndex(state) + 10)
  if (key.home || key.input === 'g') return select(state, pane, 0)
  if (key.end || key.input === 'G') return select(state, pane, Number.MAX_SAFE_INTEGER)
  const item = selectedItem(state)
  if (key.return && item) {
    const target: View = pane === 'devices'
      ? {kind: 'device', clientId: item.id}
      : pane === 'apps' ? {kind: 'app', appId: item.id} : pane === 'rollouts' ? {kind: 'rollout', name: item.id} : {kind: 'deployment', deploymentId: item.id}
    return open(select(state, pane, cursorIndex(state)), target)
  }
  if (key.input === 'd' && pane === 'apps') return openForm(state, item?.id)
  if (key.input === 'u' && pane === 'deployments') return askUndeploy(state, findDeployment(state, item?.id))
  if (key.input === 'A' && pane === 'devices' && item) return approve(state, item.id)
  if (pane === 'rollouts' && ROLLOUT_KEYS[key.input]) return controlRollout(state, item?.id, ROLLOUT_KEYS[key.input]!)
  return state
}

const ROLLOUT_KEYS: Record<string, RolloutControl | undefined> = {p: 'pause', r: 'resume', x: 'abort'}

/** Approving is for a device waiting in pending; anything else says why nothing happens. */
function approve(state: TuiState, clientId: string): TuiState {
  const d = state.data.devices.find(x => x.clientId === clientId)
  if (d?.enrollment !== 'pending') return {...state, message: {text: `only a pending device can be approved; ${clientId.slice(0, 8)}… is ${d?.enrollment ?? 'unknown'}`, tone: 'error'}}
  return withEffect({...state, message: {text: 'approving…', tone: 'info'}}, {kind: 'approve', clientId})
}

/** Whether the selected device (in the list or the open device view) waits for approval. */
export function selectedPendingDevice(state: TuiState): boolean {
  const view = currentView(state)
  const id = view?.kind === 'device' ? view.clientId : !view && state.pane === 'devices' ? selectedItem(state)?.id : undefined
  return id !== undefined && state.data.devices.some(d => d.clientId === id && d.enrollment === 'pending')
}

function viewMatches(view: View | undefined, other: View): boolean {
  if (!view || view.kind !== other.kind) return false
  if (view.kind === 'device') return view.clientId === (other as typeof view).clientId
  if (view.kind === 'deployment') return view.deploymentId === (other as typeof view).deploymentId
  if (view.kind === 'rollout') return view.name === (other as typeof view).name
  return view.appId === (other as typeof view).appId
}

export function reduce(state: TuiState, action: Action): TuiState {
  switch (action.type) {
    case 'key':
      return reduceKey(state, action.key)
    case 'data': {
      const stale = state.message?.tone === 'error' && state.message.text.startsWith('cannot load')
      const refreshed = state.message?.text === 'refreshing…'
      const data = {...action.data, rollouts: action.data.rollouts ?? state.data.rollouts}
      return {...state, data, loaded: true, now: Math.max(state.now, action.at), ...(stale || refreshed ? {message: undefined} : {})}
    }
    case 'loadFailed':
      return {...state, message: {text: `cannot load: ${action.message}`, tone: 'error'}}
    case 'detail':
      // An answer for a view that was left meanwhile is dropped.
      if (!state.stack.some(v => viewMatches(v, action.view))) return state
      return {...state, details: {...state.details, ...action.details}}
    case 'formReady': {
      if (state.formLoading !== action.app.appId) return state
      const form = createDeployForm(action.app, state.data.devices, {
        preselect: preselectedDevices(state),
        hint: d => [deviceLiveness(d, state.now).label, ...Object.entries(d.labels ?? {}).map(([k, v]) => `${k}=${v}`)].join(' '),
        ...(action.rollout ? {rollout: action.rollout} : {}),
      })
      return {...state, form, formLoading: undefined, message: undefined}
    }
    case 'deployFailed':
      if (!state.form) return state
      return {...state, form: formRejected(state.form, action.message, action.details ?? [])}
    case 'deployed': {
      if (!state.form) return state
      const r = action.result
      const devices = `${r.targets.length} device${r.targets.length === 1 ? '' : 's'}`
      const text = r.change === 'created'
        ? `deployed ${r.appId} to ${devices} (rollout ${r.name})`
        : r.change === 'updated' ? `updated rollout ${r.name} to revision ${r.revision} on ${devices}` : `rollout ${r.name} unchanged (revision ${r.revision})`
      const next: TuiState = {
        ...state,
        form: undefined,
        pane: 'deployments',
        stack: [],
        filter: {...state.filter, deployments: ''},
        selected: {...state.selected, deployments: r.targets[0]?.deploymentId ?? state.selected.deployments},
        message: {text, tone: 'info'},
      }
      return withEffect(next, {kind: 'refresh'})
    }
    case 'undeployed': {
      const view = currentView(state)
      const next = {...state, message: {text: `undeploying ${action.deployment.appId}: the device removes it at its next sync`, tone: 'info' as const}}
      const refreshed = withEffect(next, {kind: 'refresh'})
      return view ? withEffect(refreshed, {kind: 'load', view}) : refreshed
    }
    case 'approved': {
      // The fingerprint is what the operator compares with `margo agent status` on the device.
      const next = {...state, message: {text: `approved ${action.device.clientId.slice(0, 8)}… — certificate ${action.device.certificate.fingerprint}; compare with margo agent status on the device`, tone: 'info' as const}}
      const view = currentView(state)
      const refreshed = withEffect(next, {kind: 'refresh'})
      return view ? withEffect(refreshed, {kind: 'load', view}) : refreshed
    }
    case 'controlled': {
      const p = action.progress
      const done = action.action === 'pause' ? 'paused' : action.action === 'resume' ? 'resumed' : 'aborted'
      const next = {...state, message: {text: `${done} ${action.name}: now ${p.phase} at wave ${p.wave}/${p.waves.length}`, tone: 'info' as const}}
      const view = currentView(state)
      const refreshed = withEffect(next, {kind: 'refresh'})
      return view ? withEffect(refreshed, {kind: 'load', view}) : refreshed
    }
    case 'actionFailed':
      return {...state, formLoading: undefined, message: {text: action.message, tone: 'error'}}
    case 'stream':
      return {...state, stream: action.status}
    case 'tick':
      return {...state, now: action.now}
    case 'effectsDone':
      return {...state, effects: state.effects.filter(e => e.id > action.upTo)}
  }
}

/**
 * Whether an event changes what the dashboard shows. Agents report in on every poll; such a
 * sighting matters only for a device not shown as online (it comes back) or not known yet.
 * Online devices age into "stale" from the periodic refresh instead.
 */
export function eventNeedsRefresh(state: TuiState, event: {type: string, data?: unknown}): boolean {
  if (event.type !== 'device.seen') return true
  const clientId = (event.data as {clientId?: unknown} | null | undefined)?.clientId
  const device = state.data.devices.find(d => d.clientId === clientId)
  return !device || deviceLiveness(device, state.now).state !== 'online'
}
