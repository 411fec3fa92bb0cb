/**
 * The deploy form edits the app's rollout, as `margo deploy` does: target devices, profile and
 * parameter values, validated on every key stroke with the same parameter rules the server
 * applies (so the 422 is the exception, not the rule). When the rollout exists, the form starts
 * from its current revision, immutable settings are read-only and submitting updates it.
 */
import {resolveParameterValues} from '../../margo/package/parameters.ts'
import type {ApplicationDescription as CatalogDescription} from '../../margo/package/types.ts'
import type {App, Device, Rollout} from '../../operator-contract/views.ts'
import type {RolloutRequest} from '../../operator-contract/requests.ts'
import {isErase, type KeyPress, typed} from './keys.ts'

export const AUTO_PROFILE = 'auto'

export interface FormTarget {
  clientId: string
  /** Labels and liveness, to tell devices apart. */
  hint: string
}

export interface FormParam {
  name: string
  label: string
  text: string
  description?: string
  /** An immutable setting of an existing rollout: shown, not editable. */
  readOnly?: boolean
}

export interface DeployForm {
  /** The rollout being edited; undefined when submitting creates it. */
  rollout?: Pick<Rollout, 'name' | 'revision' | 'version' | 'selector' | 'devices' | 'profile' | 'values'>
  appId: string
  appName: string
  version: string
  description: CatalogDescription
  targets: FormTarget[]
  chosen: string[]
  /** `auto` (the server picks for each device), then the profile types the app has. */
  profiles: string[]
  profile: number
  params: FormParam[]
  focus: number
  /** Problems by parameter name, as the rules or the server reported them. */
  errors: Record<string, string[]>
  /** A problem not tied to one parameter (no target, the server refused, …). */
  problem?: string
  submitting: boolean
}

export type FormField =
  | {kind: 'target', clientId: string}
  | {kind: 'profile'}
  | {kind: 'param', name: string}
  | {kind: 'submit'}

/** The description as the catalog types it; the operator API sends the normalised document. */
function catalogDescription(app: App): CatalogDescription {
  const d = app.description as unknown as Partial<CatalogDescription>
  const config = d.configuration
  return {
    ...(d as CatalogDescription),
    parameters: d.parameters ?? {},
    ...(config && Array.isArray(config.sections) && Array.isArray(config.schema) ? {configuration: config} : {configuration: undefined}),
  } as CatalogDescription
}

/** How a default is shown for editing: lists as comma-separated items (the rules split them back). */
export function valueText(value: unknown): string {
  if (value === undefined || value === null) return ''
  if (Array.isArray(value)) return value.map(v => String(v)).join(', ')
  return String(value)
}

export interface FormOptions {
  /** Devices to preselect (the one being looked at). */
  preselect?: readonly string[]
  /** Hint per device (labels, liveness). */
  hint?: (device: Device) => string
  /** The app's existing rollout: the form edits it. */
  rollout?: DeployForm['rollout']
}

export function createDeployForm(app: App, devices: readonly Device[], options: FormOptions = {}): DeployForm {
  const description = catalogDescription(app)
  const settings = new Map<string, {name: string, description?: string}>()
  for (const section of description.configuration?.sections ?? []) {
    for (const s of section.settings) if (!settings.has(s.parameter)) settings.set(s.parameter, {name: s.name, ...(s.description ? {description: s.description} : {})})
  }
  const targets = devices
    .filter(d => d.enrollment !== 'revoked')
    .map(d => ({clientId: d.clientId, hint: options.hint?.(d) ?? ''}))
  const rollout = options.rollout
  const preselect = (rollout ? rollout.devices : options.preselect ?? []).filter(id => targets.some(t => t.clientId === id))
  const chosen = preselect.length > 0 || rollout ? preselect : targets.length === 1 ? [targets[0]!.clientId] : []
  const immutable = new Set<string>()
  for (const section of description.configuration?.sections ?? []) for (const s of section.settings) if (s.immutable) immutable.add(s.parameter)
  const params = Object.entries(description.parameters).map(([name, p]) => {
    const setting = settings.get(name)
    const current = rollout && Object.hasOwn(rollout.values, name) ? rollout.values[name] : p.value
    return {
      name, label: setting?.name ?? name, text: valueText(current),
      ...(setting?.description ? {description: setting.description} : {}),
      ...(rollout && immutable.has(name) ? {readOnly: true} : {}),
    }
  })
  const types = [...new Set((description.deploymentProfiles ?? []).map(p => p.type))].sort()
  const profiles = [AUTO_PROFILE, ...types]
  if (rollout?.profile && !profiles.includes(rollout.profile)) profiles.push(rollout.profile)
  const form: DeployForm = {
    ...(rollout ? {rollout} : {}),
    appId: app.appId,
    appName: app.name,
    version: description.metadata?.version ?? app.latestVersion,
    description,
    targets,
    chosen,
    profiles,
    profile: rollout?.profile ? profiles.indexOf(rollout.profile) : 0,
    params,
    focus: 0,
    errors: {},
    submitting: false,
  }
  // Start where the user most likely acts: on the first parameter when the target is settled.
  const validated = validate(form)
  return chosen.length > 0 && params.length > 0 ? {...validated, focus: fields(validated).findIndex(f => f.kind === 'param')} : validated
}

/** A rollout with a selector keeps it: the form then has no device choice. */
export const keepsSelector = (form: DeployForm) => form.rollout !== undefined && form.rollout.selector !== null

export function fields(form: DeployForm): FormField[] {
  return [
    ...(keepsSelector(form) ? [] : form.targets.map(t => ({kind: 'target' as const, clientId: t.clientId}))),
    {kind: 'profile' as const},
    ...form.params.filter(p => !p.readOnly).map(p => ({kind: 'param' as const, name: p.name})),
    {kind: 'submit' as const},
  ]
}

function userValues(form: DeployForm): Record<string, unknown> {
  return Object.fromEntries(form.params.map(p => [p.name, p.text]))
}

/** Checks the values against the app's rules; errors keyed by parameter name. */
export function validate(form: DeployForm): DeployForm {
  const result = resolveParameterValues(form.description, userValues(form))
  const errors: Record<string, string[]> = {}
  if (!result.ok) {
    for (const e of result.errors) {
      const name = e.field.replace(/^parameters\.?/, '').replace(/^\["(.*)"\]$/, '$1') || ''
      ;(errors[name] ??= []).push(e.message)
    }
  }
  const {problem: _dropped, ...rest} = form
  return {...rest, errors}
}

export function isValid(form: DeployForm): boolean {
  return Object.keys(form.errors).length === 0 && (form.chosen.length > 0 || keepsSelector(form))
}

/**
 * The `margo deploy` request the form stands for, with values typed by the rules; undefined
 * while invalid. Values are the ones that differ from the app's defaults or that the rollout
 * already set, so a form submitted untouched leaves the rollout unchanged. A new rollout follows
 * the latest version, an existing one keeps its version and, for a selector, its target.
 */
export function rolloutRequest(form: DeployForm): RolloutRequest | undefined {
  const result = resolveParameterValues(form.description, userValues(form))
  if (!result.ok || (form.chosen.length === 0 && !keepsSelector(form))) return undefined
  const defaults = form.description.parameters ?? {}
  const values: Record<string, unknown> = {}
  for (const p of form.params) {
    const set = form.rollout !== undefined && Object.hasOwn(form.rollout.values, p.name)
    if (set || p.text !== valueText(defaults[p.name]?.value)) values[p.name] = result.values[p.name]
  }
  const profile = form.profiles[form.profile]
  return {
    ...(form.rollout ? {name: form.rollout.name} : {}),
    appId: form.appId,
    ...(form.rollout?.version ? {version: form.rollout.version} : {}),
    ...(keepsSelector(form) ? {} : {devices: form.chosen}),
    ...(profile && profile !== AUTO_PROFILE ? {profile} : {}),
    ...(Object.keys(values).length > 0 ? {values} : {}),
  }
}

export type FormOutcome =
  | {form: DeployForm}
  | {form: DeployForm, submit: RolloutRequest}
  | {cancel: true}

function move(form: DeployForm, delta: number): DeployForm {
  const count = fields(form).length
  return {...form, focus: (form.focus + delta + count) % count}
}

function submit(form: DeployForm): FormOutcome {
  if (form.submitting) return {form}
  const request = rolloutRequest(form)
  if (form.chosen.length === 0 && !keepsSelector(form)) {
    return {form: {...form, problem: 'choose at least one target device (Space on a device)', focus: 0}}
  }
  if (!request) {
    const first = fields(form).findIndex(f => f.kind === 'param' && form.errors[f.name] !== undefined)
    return {form: {...form, problem: 'fix the values marked in red first', ...(first >= 0 ? {focus: first} : {})}}
  }
  return {form: {...form, submitting: true, problem: undefined} as DeployForm, submit: request}
}

/** Applies one key to the form. Arrows and Tab move; letters type into parameters. */
export function formKey(form: DeployForm, key: KeyPress): FormOutcome {
  if (key.escape) return {cancel: true}
  if (form.submitting) return {form}
  if (key.return) return submit(form)
  if (key.upArrow || (key.tab && key.shift)) return {form: move(form, -1)}
  if (key.downArrow || key.tab) return {form: move(form, 1)}
  const field = fields(form)[form.focus]
  if (!field) return {form}
  switch (field.kind) {
    case 'target': {
      if (key.input !== ' ' && key.input !== 'x') return {form}
      const chosen = form.chosen.includes(field.clientId) ? form.chosen.filter(c => c !== field.clientId) : [...form.chosen, field.clientId]
      return {form: {...form, chosen}}
    }
    case 'profile': {
      const step = key.leftArrow ? -1 : key.rightArrow || key.input === ' ' ? 1 : 0
      if (step === 0) return {form}
      return {form: {...form, profile: (form.profile + step + form.profiles.length) % form.profiles.length}}
    }
    case 'param': {
      const params = form.params.map(p => {
        if (p.name !== field.name) return p
        if (isErase(key)) return {...p, text: [...p.text].slice(0, -1).join('')}
        if (key.ctrl && key.input === 'u') return {...p, text: ''}
        const ch = typed(key)
        return ch === undefined ? p : {...p, text: p.text + ch}
      })
      return {form: validate({...form, params})}
    }
    case 'submit':
      return key.input === ' ' ? submit(form) : {form}
  }
}

/** The server's answer to a submit: its field errors shown next to the fields. */
export function formRejected(form: DeployForm, message: string, details: readonly {path: string, message: string}[] = []): DeployForm {
  const errors: Record<string, string[]> = {...form.errors}
  const other: string[] = []
  for (const d of details) {
    const m = /^(?:values|parameters)[.[]"?([^"\]]+)/.exec(d.path)
    const name = m?.[1]
    if (name && form.params.some(p => p.name === name)) (errors[name] ??= []).push(d.message)
    else other.push(d.path ? `${d.path}: ${d.message}` : d.message)
  }
  return {...form, submitting: false, errors, problem: [message, ...other].join(' — ')}
}
