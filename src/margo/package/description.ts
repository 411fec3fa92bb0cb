/**
 * Lint-grade reader for ApplicationDescription documents (spec §3.2). Every problem is reported
 * with its path; nothing stops at the first error. Unknown `x-<name>-extensions` are tolerated
 * everywhere (WFM-41) and other unknown members only warn, because G1 schemas do not forbid
 * additional properties.
 *
 * Decisions for loosely typed YAML input:
 * - YAML is read with the 1.2 core schema, so `yes`/`on` stay strings.
 * - `metadata.version` and helm `revision` written as numbers (`version: 1.0`) are accepted with
 *   a warning and turned into the number's text as written (`"1.0"`), not its numeric value.
 * - `wait: "true"` (as in G1 examples, A24) is accepted with a warning and becomes a boolean.
 * - profile type `helm` is accepted and normalised to `helm.v3` (A3); architecture `x86_64`
 *   becomes `amd64`.
 */
import {isScalar, parseDocument} from 'yaml'
import {normaliseRelativePath} from './paths.ts'
import {Findings} from './findings.ts'
import {joinPath, type FieldError} from '../result.ts'
import {MEMORY_UNITS, STORAGE_UNITS, readQuantity, type BinaryUnit} from '../quantity.ts'
import {allowedRuleKeys, coerceValue, DATA_TYPES, elementType, expectsArray, isSelect, validateValue} from './rules.ts'
import type {
  ApplicationDescription, Architecture, CatalogApplication, Component, ComposeProperties, Configuration,
  DataType, DeploymentProfile, Extensions, HelmProperties, InterfaceType, Metadata, Parameter,
  ParameterTarget, ParamValue, PeripheralType, ProfileType, RequiredResources, Scalar, SchemaRule, Section, Setting,
} from './types.ts'

export type DescriptionResult =
  | {ok: true, value: ApplicationDescription, raw: unknown, source: string | null, warnings: FieldError[]}
  | {ok: false, errors: FieldError[], warnings: FieldError[]}

export const EXTENSION_KEY = /^x-[a-z][a-z0-9-]*-extensions$/
const APPLICATION_ID = /^[a-z0-9-]{1,200}$/
const COMPONENT_NAME = /^[a-z0-9-]+$/
const EMAIL = /^.*@[a-z0-9.-]*$/
const TIMEOUT = /^(\d+m\d+s|\d+s|\d+m)$/
const KNOWN_API_VERSIONS = new Set(['margo.org/v1-alpha1', 'margo.org/v1alpha1', 'application.margo.org/v1alpha1'])
const ARCHITECTURES: readonly Architecture[] = ['amd64', 'arm64', 'arm', 'riscv64', 'other']
const PERIPHERALS: readonly PeripheralType[] = ['gpu', 'display', 'camera', 'microphone', 'speaker', 'other']
const INTERFACES: readonly InterfaceType[] = ['ethernet', 'wifi', 'cellular', 'bluetooth', 'usb', 'canbus', 'rs232', 'other']
/** Helm release names (the component name, A35) are limited to 53 characters. */
const HELM_RELEASE_NAME_MAX = 53

type Obj = Record<string, unknown>
type Segments = (string | number)[]

interface Ctx {
  f: Findings
  /** The number's text as written in the YAML source, when the input was text. */
  numberText(segments: Segments): string | undefined
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function pathOf(segments: Segments): string {
  return segments.reduce<string>((p, s) => joinPath(p, s), '')
}

function kindOf(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'a map'
  return `a ${typeof v}`
}

/** Warns about unknown members and checks extension members; returns the extensions found. */
function members(ctx: Ctx, obj: Obj, at: Segments, known: readonly string[]): Extensions {
  const extensions: Extensions = {}
  for (const [key, value] of Object.entries(obj)) {
    if (known.includes(key)) continue
    const path = pathOf([...at, key])
    if (EXTENSION_KEY.test(key)) {
      if (isObject(value)) extensions[key] = value
      else ctx.f.error(path, `specification extension value must be a map, got ${kindOf(value)}`, 'extension-not-object')
    } else {
      ctx.f.warn(path, 'unknown field, ignored', 'unknown-field')
    }
  }
  return extensions
}

function requireObject(ctx: Ctx, v: unknown, at: Segments): Obj | undefined {
  if (v === undefined) { ctx.f.error(pathOf(at), 'is required', 'required'); return undefined }
  if (!isObject(v)) { ctx.f.error(pathOf(at), `must be a map, got ${kindOf(v)}`, 'type'); return undefined }
  return v
}

function requireList(ctx: Ctx, v: unknown, at: Segments, minItems: number): unknown[] | undefined {
  if (v === undefined) { ctx.f.error(pathOf(at), 'is required', 'required'); return undefined }
  if (!Array.isArray(v)) { ctx.f.error(pathOf(at), `must be a list, got ${kindOf(v)}`, 'type'); return undefined }
  if (v.length < minItems) { ctx.f.error(pathOf(at), `must have at least ${minItems} item${minItems === 1 ? '' : 's'}`, 'min-items'); return undefined }
  return v
}

function optionalList(ctx: Ctx, v: unknown, at: Segments): unknown[] | undefined {
  if (v === undefined) return undefined
  if (!Array.isArray(v)) { ctx.f.error(pathOf(at), `must be a list, got ${kindOf(v)}`, 'type'); return undefined }
  return v
}

interface StringRule {
  required?: boolean
  pattern?: RegExp
  patternHint?: string
}

function str(ctx: Ctx, obj: Obj, key: string, at: Segments, rule: StringRule = {}): string | undefined {
  const v = obj[key]
  const path = pathOf([...at, key])
  if (v === undefined || v === null) {
    if (rule.required) ctx.f.error(path, 'is required', 'required')
    return undefined
  }
  if (typeof v !== 'string') { ctx.f.error(path, `must be a string, got ${kindOf(v)}`, 'type'); return undefined }
  if (rule.required && v.trim() === '') { ctx.f.error(path, 'must not be empty', 'required'); return undefined }
  if (rule.pattern && !rule.pattern.test(v)) {
    ctx.f.error(path, `${JSON.stringify(v)} ${rule.patternHint ?? `does not match ${rule.pattern.source}`}`, 'pattern')
    return undefined
  }
  return v
}

/** A string field that YAML authors often leave unquoted as a number (`version: 1.0`). */
function versionLike(ctx: Ctx, obj: Obj, key: string, at: Segments): string | undefined {
  const v = obj[key]
  const path = pathOf([...at, key])
  if (typeof v === 'number') {
    const text = ctx.numberText([...at, key]) ?? String(v)
    ctx.f.warn(path, `is a number; read as the string "${text}" (quote it to be explicit)`, 'number-as-string')
    return text
  }
  return str(ctx, obj, key, at, {required: true})
}

function bool(ctx: Ctx, obj: Obj, key: string, at: Segments): boolean | undefined {
  const v = obj[key]
  const path = pathOf([...at, key])
  if (v === undefined || v === null) return undefined
  if (typeof v === 'boolean') return v
  if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) {
    ctx.f.warn(path, `is the string ${JSON.stringify(v)}; read as a boolean (write it unquoted)`, 'string-as-boolean')
    return v.trim().toLowerCase() === 'true'
  }
  ctx.f.error(path, `must be true or false, got ${JSON.stringify(v)}`, 'type')
  return undefined
}

function nonNegativeInteger(ctx: Ctx, obj: Obj, key: string, at: Segments): number | undefined {
  const v = obj[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    ctx.f.error(pathOf([...at, key]), `must be a whole number ≥ 0, got ${JSON.stringify(v)}`, 'type')
    return undefined
  }
  return v
}

function url(ctx: Ctx, obj: Obj, key: string, at: Segments, required: boolean, schemes: readonly string[]): string | undefined {
  const v = str(ctx, obj, key, at, {required})
  if (v === undefined) return undefined
  let parsed: URL | undefined
  try { parsed = new URL(v) } catch { parsed = undefined }
  const path = pathOf([...at, key])
  if (!parsed || !schemes.includes(parsed.protocol)) {
    ctx.f.error(path, `${JSON.stringify(v)} must be an absolute URL starting with ${schemes.map(s => `${s}//`).join(' or ')}`, 'url')
    return undefined
  }
  if (parsed.protocol === 'http:') ctx.f.warn(path, 'uses plain http; the download is not protected in transit', 'insecure-url')
  return v
}

// ---------------------------------------------------------------- metadata

function readMetadata(ctx: Ctx, root: Obj): Metadata | undefined {
  const at: Segments = ['metadata']
  const m = requireObject(ctx, root.metadata, at)
  if (!m) return undefined
  members(ctx, m, at, ['id', 'name', 'description', 'version', 'catalog'])
  const id = str(ctx, m, 'id', at, {
    required: true, pattern: APPLICATION_ID,
    patternHint: 'must be 1 to 200 lowercase letters, digits or dashes (no uppercase, "." or "_")',
  })
  const name = str(ctx, m, 'name', at, {required: true})
  const description = str(ctx, m, 'description', at)
  const version = versionLike(ctx, m, 'version', at)
  const catalog = readCatalog(ctx, m.catalog, [...at, 'catalog'])
  if (id === undefined || name === undefined || version === undefined || catalog === undefined) return undefined
  return {id, name, version, catalog, ...(description === undefined ? {} : {description})}
}

function readCatalog(ctx: Ctx, v: unknown, at: Segments): Metadata['catalog'] | undefined {
  const c = requireObject(ctx, v, at)
  if (!c) return undefined
  members(ctx, c, at, ['application', 'author', 'organization'])
  const catalog: Metadata['catalog'] = {organization: []}
  let ok = true

  if (c.application !== undefined) {
    const aAt = [...at, 'application']
    const a = requireObject(ctx, c.application, aAt)
    if (a) {
      members(ctx, a, aAt, ['descriptionFile', 'icon', 'licenseFile', 'releaseNotes', 'site', 'tagline', 'tags'])
      const application: CatalogApplication = {}
      for (const key of ['descriptionFile', 'icon', 'licenseFile', 'releaseNotes'] as const) {
        const p = str(ctx, a, key, aAt)
        if (p === undefined) continue
        const normalised = normaliseRelativePath(p)
        if (normalised === null) ctx.f.error(pathOf([...aAt, key]), `${JSON.stringify(p)} must be a relative path inside the package (no "..", no leading "/")`, 'unsafe-path')
        else application[key] = normalised
      }
      const site = str(ctx, a, 'site', aAt)
      if (site !== undefined) application.site = site
      const tagline = str(ctx, a, 'tagline', aAt)
      if (tagline !== undefined) application.tagline = tagline
      const tags = optionalList(ctx, a.tags, [...aAt, 'tags'])
      if (tags) {
        application.tags = []
        tags.forEach((t, i) => {
          if (typeof t === 'string') application.tags?.push(t)
          else ctx.f.error(pathOf([...aAt, 'tags', i]), `must be a string, got ${kindOf(t)}`, 'type')
        })
      }
      catalog.application = application
    }
  }

  const authors = optionalList(ctx, c.author, [...at, 'author'])
  if (authors) {
    catalog.author = []
    authors.forEach((raw, i) => {
      const aAt = [...at, 'author', i]
      const a = requireObject(ctx, raw, aAt)
      if (!a) return
      members(ctx, a, aAt, ['name', 'email'])
      const name = str(ctx, a, 'name', aAt)
      const email = str(ctx, a, 'email', aAt, {pattern: EMAIL, patternHint: 'is not an e-mail address (name@domain, domain in lowercase)'})
      catalog.author?.push({...(name === undefined ? {} : {name}), ...(email === undefined ? {} : {email})})
    })
  }

  const orgs = requireList(ctx, c.organization, [...at, 'organization'], 1)
  if (!orgs) ok = false
  orgs?.forEach((raw, i) => {
    const oAt = [...at, 'organization', i]
    const o = requireObject(ctx, raw, oAt)
    if (!o) { ok = false; return }
    members(ctx, o, oAt, ['name', 'site'])
    const name = str(ctx, o, 'name', oAt, {required: true})
    const site = str(ctx, o, 'site', oAt)
    if (name === undefined) { ok = false; return }
    catalog.organization.push({name, ...(site === undefined ? {} : {site})})
  })
  return ok ? catalog : undefined
}

// ---------------------------------------------------------------- deployment profiles

function readProfileType(ctx: Ctx, p: Obj, at: Segments): ProfileType | undefined {
  const t = str(ctx, p, 'type', at, {required: true})
  if (t === undefined) return undefined
  if (t === 'helm.v3' || t === 'compose') return t
  if (t === 'helm') {
    ctx.f.warn(pathOf([...at, 'type']), '"helm" read as "helm.v3"', 'normalised')
    return 'helm.v3'
  }
  ctx.f.error(pathOf([...at, 'type']), `${JSON.stringify(t)} is not a deployment profile type; use helm.v3 or compose`, 'enum')
  return undefined
}

function readTimeoutAndWait(ctx: Ctx, props: Obj, at: Segments, out: Obj): void {
  const wait = bool(ctx, props, 'wait', at)
  if (wait !== undefined) out.wait = wait
  const timeout = str(ctx, props, 'timeout', at, {pattern: TIMEOUT, patternHint: 'must be a duration like 8m30s, 90s or 5m'})
  if (timeout !== undefined) out.timeout = timeout
}

/** Known properties are checked and normalised; unknown ones are kept in place with a warning. */
function readProperties(ctx: Ctx, type: ProfileType, v: unknown, at: Segments): HelmProperties | ComposeProperties | undefined {
  const props = requireObject(ctx, v, at)
  if (!props) return undefined
  const known = type === 'helm.v3'
    ? ['repository', 'revision', 'wait', 'timeout']
    : ['packageLocation', 'keyLocation', 'wait', 'timeout']
  const out: Obj = {}
  for (const [key, value] of Object.entries(props)) {
    if (!known.includes(key)) {
      if (!EXTENSION_KEY.test(key)) ctx.f.warn(pathOf([...at, key]), `unknown ${type} component property, passed to the device unchanged`, 'unknown-field')
      out[key] = value
    } else {
      out[key] = undefined
    }
  }
  const errorsBefore = ctx.f.errors.length
  if (type === 'helm.v3') {
    out.repository = url(ctx, props, 'repository', at, true, ['oci:', 'https:'])
    const revision = props.revision
    if (typeof revision === 'number') {
      out.revision = versionLike(ctx, props, 'revision', at)
    } else {
      out.revision = str(ctx, props, 'revision', at, {required: true})
    }
  } else {
    out.packageLocation = url(ctx, props, 'packageLocation', at, true, ['https:', 'http:', 'oci:'])
    if (props.keyLocation !== undefined) out.keyLocation = url(ctx, props, 'keyLocation', at, false, ['https:', 'http:'])
  }
  readTimeoutAndWait(ctx, props, at, out)
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key]
  if (ctx.f.errors.length > errorsBefore) return undefined
  return out as HelmProperties | ComposeProperties
}

function readComponents(ctx: Ctx, type: ProfileType | undefined, v: unknown, at: Segments): Component[] | undefined {
  const list = requireList(ctx, v, at, 1)
  if (!list) return undefined
  const components: Component[] = []
  const seen = new Map<string, number>()
  let ok = true
  list.forEach((raw, i) => {
    const cAt = [...at, i]
    const c = requireObject(ctx, raw, cAt)
    if (!c) { ok = false; return }
    const extensions = members(ctx, c, cAt, ['name', 'properties'])
    const name = str(ctx, c, 'name', cAt, {
      required: true, pattern: COMPONENT_NAME,
      patternHint: 'must contain only lowercase letters, digits and dashes',
    })
    if (name !== undefined) {
      const first = seen.get(name)
      if (first !== undefined) {
        ctx.f.error(pathOf([...cAt, 'name']), `duplicates the name of ${pathOf([...at, first])} in this profile`, 'duplicate')
      } else {
        seen.set(name, i)
      }
      if (type === 'helm.v3' && name.length > HELM_RELEASE_NAME_MAX) {
        ctx.f.warn(pathOf([...cAt, 'name']), `is longer than ${HELM_RELEASE_NAME_MAX} characters, the limit for Helm release names`, 'long-name')
      }
    }
    const properties = type === undefined ? undefined : readProperties(ctx, type, c.properties, [...cAt, 'properties'])
    if (name === undefined || properties === undefined) { ok = false; return }
    components.push({name, properties, extensions})
  })
  return ok ? components : undefined
}

function enumValue<T extends string>(
  ctx: Ctx, item: unknown, path: string, allowed: readonly T[], aliases: Record<string, T> = {},
): T | undefined {
  if (item === undefined || item === null) { ctx.f.error(path, 'is required', 'required'); return undefined }
  if (typeof item !== 'string') { ctx.f.error(path, `must be a string, got ${kindOf(item)}`, 'type'); return undefined }
  const alias = aliases[item]
  if (alias !== undefined) return alias
  if ((allowed as readonly string[]).includes(item)) return item as T
  const lower = item.toLowerCase()
  if ((allowed as readonly string[]).includes(lower)) {
    ctx.f.warn(path, `${JSON.stringify(item)} read as ${JSON.stringify(lower)}`, 'normalised')
    return lower as T
  }
  ctx.f.error(path, `${JSON.stringify(item)} is not one of ${allowed.join(', ')}`, 'enum')
  return undefined
}

function enumList<T extends string>(
  ctx: Ctx, v: unknown, at: Segments, allowed: readonly T[], aliases: Record<string, T> = {},
): T[] | undefined {
  const list = optionalList(ctx, v, at)
  if (!list) return undefined
  const out: T[] = []
  list.forEach((item, i) => {
    const value = enumValue(ctx, item, pathOf([...at, i]), allowed, aliases)
    if (value !== undefined) out.push(value)
  })
  return out
}

function typedItems<T extends string>(
  ctx: Ctx, v: unknown, at: Segments, allowed: readonly T[], extraKeys: readonly string[],
): {type: T, rest: Obj}[] | undefined {
  const list = optionalList(ctx, v, at)
  if (!list) return undefined
  const out: {type: T, rest: Obj}[] = []
  list.forEach((raw, i) => {
    const iAt = [...at, i]
    const item = requireObject(ctx, raw, iAt)
    if (!item) return
    members(ctx, item, iAt, ['type', ...extraKeys])
    const type = enumValue(ctx, item.type, pathOf([...iAt, 'type']), allowed)
    if (type === undefined) return
    const rest: Obj = {}
    for (const key of extraKeys) {
      const s = str(ctx, item, key, iAt)
      if (s !== undefined) rest[key] = s
    }
    out.push({type, rest})
  })
  return out
}

/**
 * A memory or storage requirement. The packager writes the data-model spelling exactly
 * (`512Mi`): the blank that device reports are forgiven is refused here, so a package that
 * passes here passes every reader that follows the pattern.
 */
function quantity(ctx: Ctx, obj: Obj, key: string, at: Segments, units: readonly BinaryUnit[], example: string): string | undefined {
  const v = str(ctx, obj, key, at)
  if (v === undefined) return undefined
  const q = readQuantity(v, units)
  if (q !== null && q.canonical === v) return v
  const path = pathOf([...at, key])
  const hint = q === null
    ? `must be a whole number with unit ${units.slice(0, -1).join(', ')} or ${units.at(-1)}, e.g. ${example}`
    : `must be written ${q.canonical}, without blanks`
  ctx.f.error(path, `${JSON.stringify(v)} ${hint}`, 'pattern')
  return undefined
}

function readRequiredResources(ctx: Ctx, v: unknown, at: Segments, profileDescription: string | undefined): RequiredResources | undefined {
  if (v === undefined) return undefined
  const r = requireObject(ctx, v, at)
  if (!r) return undefined
  members(ctx, r, at, ['cpu', 'memory', 'storage', 'peripherals', 'interfaces'])
  const out: RequiredResources = {}
  let mentionsOther = false

  if (r.cpu !== undefined) {
    const cAt = [...at, 'cpu']
    const cpu = requireObject(ctx, r.cpu, cAt)
    if (cpu) {
      members(ctx, cpu, cAt, ['cores', 'architectures'])
      const cores = cpu.cores
      if (cores === undefined) ctx.f.error(pathOf([...cAt, 'cores']), 'is required when cpu is given', 'required')
      else if (typeof cores !== 'number' || !Number.isFinite(cores) || cores <= 0) ctx.f.error(pathOf([...cAt, 'cores']), `must be a number greater than 0, got ${JSON.stringify(cores)}`, 'type')
      const architectures = enumList(ctx, cpu.architectures, [...cAt, 'architectures'], ARCHITECTURES, {x86_64: 'amd64'})
      if (architectures?.includes('other')) mentionsOther = true
      if (typeof cores === 'number' && cores > 0 && Number.isFinite(cores)) {
        out.cpu = {cores, ...(architectures === undefined ? {} : {architectures: [...new Set(architectures)]})}
      }
    }
  }
  const memory = quantity(ctx, r, 'memory', at, MEMORY_UNITS, '512Mi')
  if (memory !== undefined) out.memory = memory
  const storage = quantity(ctx, r, 'storage', at, STORAGE_UNITS, '10Gi')
  if (storage !== undefined) out.storage = storage

  const peripherals = typedItems(ctx, r.peripherals, [...at, 'peripherals'], PERIPHERALS, ['manufacturer', 'model'])
  if (peripherals) out.peripherals = peripherals.map(p => ({type: p.type, ...p.rest}))
  const interfaces = typedItems(ctx, r.interfaces, [...at, 'interfaces'], INTERFACES, [])
  if (interfaces) out.interfaces = interfaces.map(p => ({type: p.type}))
  if (out.peripherals?.some(p => p.type === 'other') || out.interfaces?.some(p => p.type === 'other')) mentionsOther = true

  if (mentionsOther && (profileDescription === undefined || profileDescription.trim() === '')) {
    ctx.f.warn(pathOf(at), 'uses "other"; explain what is needed in the profile description', 'other-unexplained')
  }
  return out
}

function readProfiles(ctx: Ctx, root: Obj): DeploymentProfile[] | undefined {
  const at: Segments = ['deploymentProfiles']
  const list = requireList(ctx, root.deploymentProfiles, at, 1)
  if (!list) return undefined
  const profiles: DeploymentProfile[] = []
  const ids = new Map<string, number>()
  let ok = true
  list.forEach((raw, i) => {
    const pAt = [...at, i]
    const p = requireObject(ctx, raw, pAt)
    if (!p) { ok = false; return }
    const extensions = members(ctx, p, pAt, ['type', 'id', 'description', 'components', 'requiredResources'])
    const type = readProfileType(ctx, p, pAt)
    const id = str(ctx, p, 'id', pAt, {required: true})
    if (id !== undefined) {
      const first = ids.get(id)
      if (first !== undefined) ctx.f.error(pathOf([...pAt, 'id']), `duplicates the id of ${pathOf([...at, first])}`, 'duplicate')
      else ids.set(id, i)
    }
    const description = str(ctx, p, 'description', pAt)
    const components = readComponents(ctx, type, p.components, [...pAt, 'components'])
    const requiredResources = readRequiredResources(ctx, p.requiredResources, [...pAt, 'requiredResources'], description)
    if (type === undefined || id === undefined || components === undefined) { ok = false; return }
    profiles.push({
      type, id,
      ...(description === undefined ? {} : {description}),
      components,
      ...(requiredResources === undefined ? {} : {requiredResources}),
      extensions,
    })
  })
  return ok ? profiles : undefined
}

// ---------------------------------------------------------------- parameters

function isScalarValue(v: unknown): v is Scalar {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
}

function readParameters(ctx: Ctx, root: Obj, componentNames: Set<string> | undefined): Record<string, Parameter> | undefined {
  const at: Segments = ['parameters']
  if (root.parameters === undefined || root.parameters === null) return {}
  const map = requireObject(ctx, root.parameters, at)
  if (!map) return undefined
  const out: Record<string, Parameter> = {}
  let ok = true
  for (const [name, raw] of Object.entries(map)) {
    const pAt = [...at, name]
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
      ctx.f.warn(pathOf(pAt), 'parameter names are easiest to set from the command line when they use only letters, digits, ".", "_" and "-"', 'awkward-name')
    }
    const p = requireObject(ctx, raw, pAt)
    if (!p) { ok = false; continue }
    members(ctx, p, pAt, ['value', 'targets'])
    let value: ParamValue | undefined
    const rawValue = p.value
    if (rawValue !== undefined && rawValue !== null) {
      if (isScalarValue(rawValue)) value = rawValue
      else if (Array.isArray(rawValue) && rawValue.every(isScalarValue)) value = rawValue
      else { ctx.f.error(pathOf([...pAt, 'value']), 'must be a string, number, boolean or a list of those', 'type'); ok = false }
    }
    const targets = readTargets(ctx, p.targets, [...pAt, 'targets'], componentNames)
    if (!targets) { ok = false; continue }
    out[name] = {...(value === undefined ? {} : {value}), targets}
  }
  return ok ? out : undefined
}

function readTargets(ctx: Ctx, v: unknown, at: Segments, componentNames: Set<string> | undefined): ParameterTarget[] | undefined {
  const list = requireList(ctx, v, at, 1)
  if (!list) return undefined
  const out: ParameterTarget[] = []
  let ok = true
  list.forEach((raw, i) => {
    const tAt = [...at, i]
    const t = requireObject(ctx, raw, tAt)
    if (!t) { ok = false; return }
    members(ctx, t, tAt, ['pointer', 'components'])
    const pointer = str(ctx, t, 'pointer', tAt, {required: true})
    const comps = requireList(ctx, t.components, [...tAt, 'components'], 1)
    const names: string[] = []
    comps?.forEach((c, j) => {
      const cPath = pathOf([...tAt, 'components', j])
      if (typeof c !== 'string') { ctx.f.error(cPath, `must be a component name, got ${kindOf(c)}`, 'type'); ok = false; return }
      if (componentNames && !componentNames.has(c)) {
        ctx.f.error(cPath, `names no component of any deployment profile: ${JSON.stringify(c)}`, 'unknown-component')
        ok = false
        return
      }
      names.push(c)
    })
    if (pointer === undefined || comps === undefined) { ok = false; return }
    out.push({pointer, components: names})
  })
  return ok ? out : undefined
}

// ---------------------------------------------------------------- configuration

function readRule(ctx: Ctx, raw: unknown, at: Segments): SchemaRule | undefined {
  const r = requireObject(ctx, raw, at)
  if (!r) return undefined
  const name = str(ctx, r, 'name', at, {required: true})
  const dataTypeRaw = str(ctx, r, 'dataType', at, {required: true})
  let dataType: DataType | undefined
  if (dataTypeRaw !== undefined) {
    if ((DATA_TYPES as readonly string[]).includes(dataTypeRaw)) dataType = dataTypeRaw as DataType
    else ctx.f.error(pathOf([...at, 'dataType']), `${JSON.stringify(dataTypeRaw)} is not one of ${DATA_TYPES.join(', ')}`, 'enum')
  }
  if (dataType === undefined || name === undefined) return undefined

  const select = r.options !== undefined
  const allowed = allowedRuleKeys(dataType, select)
  const errorsBefore = ctx.f.errors.length
  for (const [key, value] of Object.entries(r)) {
    if (allowed.includes(key)) continue
    if (EXTENSION_KEY.test(key)) {
      if (!isObject(value)) ctx.f.error(pathOf([...at, key]), `specification extension value must be a map, got ${kindOf(value)}`, 'extension-not-object')
      continue
    }
    const kind = select ? 'a select rule' : `a ${dataType} rule`
    ctx.f.error(pathOf([...at, key]), `is not a valid key for ${kind}; allowed: ${allowed.join(', ')}`, 'unknown-rule-key')
  }

  const rule: SchemaRule = {name, dataType}
  const allowEmpty = bool(ctx, r, 'allowEmpty', at)
  if (allowEmpty !== undefined) rule.allowEmpty = allowEmpty
  const type = elementType(dataType)

  if (select) {
    const multiselect = bool(ctx, r, 'multiselect', at)
    if (multiselect !== undefined) {
      rule.multiselect = multiselect
      if (multiselect !== dataType.startsWith('array[')) {
        ctx.f.warn(pathOf([...at, 'multiselect']), `is ${multiselect} while dataType is ${dataType}; values are ${multiselect ? 'lists' : 'single choices'}`, 'select-shape')
      }
    }
    const options = requireList(ctx, r.options, [...at, 'options'], 1)
    if (options) {
      const seen = new Set<Scalar>()
      const opts: Scalar[] = []
      options.forEach((o, i) => {
        const oPath = pathOf([...at, 'options', i])
        const c = coerceValue(o, {name, dataType: type})
        if (!c.ok || c.coerced.value === undefined || Array.isArray(c.coerced.value)) {
          ctx.f.error(oPath, `option ${JSON.stringify(o)} is not a valid ${type}`, 'type')
          return
        }
        const v = c.coerced.value
        if (seen.has(v)) ctx.f.warn(oPath, `duplicates option ${JSON.stringify(v)}`, 'duplicate')
        seen.add(v)
        opts.push(v)
      })
      rule.options = opts
    }
  } else {
    if (type === 'string') {
      const minLength = nonNegativeInteger(ctx, r, 'minLength', at)
      const maxLength = nonNegativeInteger(ctx, r, 'maxLength', at)
      if (minLength !== undefined) rule.minLength = minLength
      if (maxLength !== undefined) rule.maxLength = maxLength
      if (minLength !== undefined && maxLength !== undefined && minLength > maxLength) {
        ctx.f.error(pathOf([...at, 'minLength']), `is greater than maxLength (${minLength} > ${maxLength})`, 'range')
      }
      const regexMatch = str(ctx, r, 'regexMatch', at)
      if (regexMatch !== undefined) {
        try {
          new RegExp(regexMatch, 'u')
          rule.regexMatch = regexMatch
        } catch (e) {
          ctx.f.error(pathOf([...at, 'regexMatch']), `is not a valid regular expression: ${(e as Error).message}`, 'regex')
        }
      }
    }
    if (type === 'integer' || type === 'double') {
      for (const key of ['minValue', 'maxValue'] as const) {
        const v = r[key]
        if (v === undefined || v === null) continue
        const good = typeof v === 'number' && Number.isFinite(v) && (type === 'double' || Number.isInteger(v))
        if (!good) ctx.f.error(pathOf([...at, key]), `must be ${type === 'integer' ? 'an integer' : 'a number'}, got ${JSON.stringify(v)}`, 'type')
        else rule[key] = v
      }
      if (rule.minValue !== undefined && rule.maxValue !== undefined && rule.minValue > rule.maxValue) {
        ctx.f.error(pathOf([...at, 'minValue']), `is greater than maxValue (${rule.minValue} > ${rule.maxValue})`, 'range')
      }
    }
    if (type === 'double') {
      const minPrecision = nonNegativeInteger(ctx, r, 'minPrecision', at)
      const maxPrecision = nonNegativeInteger(ctx, r, 'maxPrecision', at)
      if (minPrecision !== undefined) rule.minPrecision = minPrecision
      if (maxPrecision !== undefined) rule.maxPrecision = maxPrecision
      if (minPrecision !== undefined && maxPrecision !== undefined && minPrecision > maxPrecision) {
        ctx.f.error(pathOf([...at, 'minPrecision']), `is greater than maxPrecision (${minPrecision} > ${maxPrecision})`, 'range')
      }
    }
  }
  return ctx.f.errors.length > errorsBefore ? undefined : rule
}

function readConfiguration(
  ctx: Ctx, root: Obj, parameters: Record<string, Parameter> | undefined,
): Configuration | undefined | null {
  const at: Segments = ['configuration']
  if (root.configuration === undefined || root.configuration === null) return undefined
  const c = requireObject(ctx, root.configuration, at)
  if (!c) return null
  members(ctx, c, at, ['sections', 'schema'])

  const rules: SchemaRule[] = []
  const ruleIndex = new Map<string, number>()
  let ok = true
  const schemaList = requireList(ctx, c.schema, [...at, 'schema'], 0)
  if (!schemaList) ok = false
  schemaList?.forEach((raw, i) => {
    const rAt = [...at, 'schema', i]
    const rule = readRule(ctx, raw, rAt)
    const name = isObject(raw) && typeof raw.name === 'string' ? raw.name : undefined
    if (name !== undefined) {
      if (ruleIndex.has(name)) ctx.f.error(pathOf([...rAt, 'name']), `duplicates the name of ${pathOf([...at, 'schema', ruleIndex.get(name) ?? 0])}`, 'duplicate')
      else ruleIndex.set(name, i)
    }
    if (rule) rules.push(rule)
    else ok = false
  })

  const sections: Section[] = []
  const sectionList = requireList(ctx, c.sections, [...at, 'sections'], 0)
  if (!sectionList) ok = false
  const settingOf = new Map<string, string>()
  sectionList?.forEach((raw, i) => {
    const sAt = [...at, 'sections', i]
    const s = requireObject(ctx, raw, sAt)
    if (!s) { ok = false; return }
    members(ctx, s, sAt, ['name', 'settings'])
    const name = str(ctx, s, 'name', sAt, {required: true})
    const list = requireList(ctx, s.settings, [...sAt, 'settings'], 0)
    if (list?.length === 0) ctx.f.warn(pathOf([...sAt, 'settings']), 'section has no settings', 'empty')
    const settings: Setting[] = []
    list?.forEach((rawSetting, j) => {
      const tAt = [...sAt, 'settings', j]
      const t = requireObject(ctx, rawSetting, tAt)
      if (!t) { ok = false; return }
      members(ctx, t, tAt, ['parameter', 'name', 'description', 'immutable', 'schema'])
      const parameter = str(ctx, t, 'parameter', tAt, {required: true})
      if (parameter !== undefined && parameters !== undefined && !(parameter in parameters)) {
        ctx.f.error(pathOf([...tAt, 'parameter']), `names no parameter: ${JSON.stringify(parameter)}`, 'unknown-parameter')
        ok = false
      }
      if (parameter !== undefined) {
        const other = settingOf.get(parameter)
        if (other !== undefined) ctx.f.warn(pathOf([...tAt, 'parameter']), `parameter ${JSON.stringify(parameter)} is also set by ${other}`, 'duplicate')
        else settingOf.set(parameter, pathOf(tAt))
      }
      const settingName = str(ctx, t, 'name', tAt, {required: true})
      const description = str(ctx, t, 'description', tAt)
      const immutable = bool(ctx, t, 'immutable', tAt) ?? false
      const schema = str(ctx, t, 'schema', tAt, {required: true})
      if (schema !== undefined && schemaList !== undefined && !ruleIndex.has(schema)) {
        ctx.f.error(pathOf([...tAt, 'schema']), `names no schema rule: ${JSON.stringify(schema)}`, 'unknown-rule')
        ok = false
      }
      if (parameter === undefined || settingName === undefined || schema === undefined) { ok = false; return }
      settings.push({parameter, name: settingName, ...(description === undefined ? {} : {description}), immutable, schema})
    })
    if (name === undefined || list === undefined) { ok = false; return }
    sections.push({name, settings})
  })
  return ok ? {sections, schema: rules} : null
}

/** The default value of each parameter must itself satisfy every rule it is bound to. */
function checkDefaults(ctx: Ctx, parameters: Record<string, Parameter>, configuration: Configuration): void {
  const checked = new Set<string>()
  for (const section of configuration.sections) {
    for (const setting of section.settings) {
      const parameter = parameters[setting.parameter]
      const rule = configuration.schema.find(r => r.name === setting.schema)
      if (!parameter || !rule || parameter.value === undefined) continue
      const key = `${setting.parameter}\u0000${rule.name}`
      if (checked.has(key)) continue
      checked.add(key)
      const result = validateValue(parameter.value, rule)
      if (!result.ok) {
        for (const message of result.messages) {
          ctx.f.error(pathOf(['parameters', setting.parameter, 'value']), `default ${message} (schema rule ${rule.name})`, 'invalid-default')
        }
      } else if (!isSelect(rule) && expectsArray(rule) !== Array.isArray(parameter.value)) {
        ctx.f.warn(pathOf(['parameters', setting.parameter, 'value']), `default is ${Array.isArray(parameter.value) ? 'a list' : 'a single value'} but schema rule ${rule.name} is ${rule.dataType}`, 'shape')
      }
    }
  }
}

// ---------------------------------------------------------------- entry point

function fromText(source: string): {ok: true, raw: unknown, numberText: Ctx['numberText'], warnings: FieldError[]} | {ok: false, errors: FieldError[]} {
  const doc = parseDocument(source, {uniqueKeys: true})
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map(e => ({
        field: e.linePos ? `(line ${e.linePos[0].line}, column ${e.linePos[0].col})` : '',
        message: `YAML syntax: ${(e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '')}`,
        code: 'yaml',
      })),
    }
  }
  let raw: unknown
  try {
    raw = doc.toJS({maxAliasCount: 100})
  } catch (e) {
    return {ok: false, errors: [{field: '', message: `YAML: ${(e as Error).message}`, code: 'yaml'}]}
  }
  const numberText = (segments: Segments): string | undefined => {
    const node = doc.getIn(segments, true)
    return isScalar(node) && typeof node.value === 'number' && typeof node.source === 'string' ? node.source : undefined
  }
  const warnings = doc.warnings.map(w => ({field: '', message: `YAML: ${w.message.split('\n')[0] ?? w.message}`, code: 'yaml'}))
  return {ok: true, raw, numberText, warnings}
}

/**
 * Reads and validates an ApplicationDescription from YAML/JSON text or from an already parsed
 * value. On success returns the normalised description, the parsed document as it was and the
 * text it came from (null when a parsed value was given).
 */
export function parseApplicationDescription(source: string | unknown): DescriptionResult {
  const f = new Findings()
  let raw: unknown = source
  let text: string | null = null
  let numberText: Ctx['numberText'] = () => undefined
  if (typeof source === 'string') {
    const parsed = fromText(source)
    if (!parsed.ok) return {ok: false, errors: parsed.errors, warnings: []}
    raw = parsed.raw
    text = source
    numberText = parsed.numberText
    f.warnings.push(...parsed.warnings)
  }
  const ctx: Ctx = {f, numberText}
  if (!isObject(raw)) {
    f.error('', `an ApplicationDescription must be a map, got ${kindOf(raw)}`, 'type')
    return {ok: false, errors: f.errors, warnings: f.warnings}
  }

  const extensions = members(ctx, raw, [], ['apiVersion', 'kind', 'metadata', 'deploymentProfiles', 'parameters', 'configuration'])
  const apiVersion = str(ctx, raw, 'apiVersion', [], {required: true})
  if (apiVersion !== undefined && !KNOWN_API_VERSIONS.has(apiVersion)) {
    ctx.f.warn('apiVersion', `unrecognised apiVersion ${JSON.stringify(apiVersion)}; expected margo.org/v1-alpha1`, 'unknown-api-version')
  }
  const kind = str(ctx, raw, 'kind', [], {required: true})
  if (kind !== undefined && kind !== 'ApplicationDescription') {
    ctx.f.error('kind', `must be exactly "ApplicationDescription", got ${JSON.stringify(kind)}`, 'kind')
  }
  const metadata = readMetadata(ctx, raw)
  const profiles = readProfiles(ctx, raw)
  // Targets are checked against every component name that parsed, so one broken profile
  // does not hide target errors elsewhere.
  const componentNames = profiles === undefined ? collectComponentNames(raw) : new Set(profiles.flatMap(p => p.components.map(c => c.name)))
  const parameters = readParameters(ctx, raw, componentNames)
  const configuration = readConfiguration(ctx, raw, parameters ?? collectParameterNames(raw))
  if (parameters && configuration) checkDefaults(ctx, parameters, configuration)

  if (f.errors.length > 0 || !metadata || !profiles || !parameters || configuration === null || apiVersion === undefined) {
    return {ok: false, errors: f.errors, warnings: f.warnings}
  }
  const value: ApplicationDescription = {
    apiVersion,
    kind: 'ApplicationDescription',
    metadata,
    deploymentProfiles: profiles,
    parameters,
    ...(configuration === undefined ? {} : {configuration}),
    extensions,
  }
  return {ok: true, value, raw, source: text, warnings: f.warnings}
}

function collectComponentNames(raw: Obj): Set<string> | undefined {
  if (!Array.isArray(raw.deploymentProfiles)) return undefined
  const names = new Set<string>()
  for (const p of raw.deploymentProfiles) {
    if (!isObject(p) || !Array.isArray(p.components)) continue
    for (const c of p.components) if (isObject(c) && typeof c.name === 'string') names.add(c.name)
  }
  return names
}

function collectParameterNames(raw: Obj): Record<string, Parameter> | undefined {
  if (!isObject(raw.parameters)) return undefined
  return Object.fromEntries(Object.keys(raw.parameters).map(k => [k, {targets: []}]))
}

export type {
  ApplicationDescription, Component, DeploymentProfile, Parameter, ParamValue, ProfileType, SchemaRule, Setting,
} from './types.ts'
