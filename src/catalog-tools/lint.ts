/**
 * `margo app lint`: every problem of one application package, description or archive, each
 * with its path, checked locally with the same readers the catalog uses on publish.
 */
import {readdir, readFile, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {parse} from 'yaml'
import {UsageError} from '../util/errors.ts'
import {parseApplicationDescription} from '../margo/package/description.ts'
import {readPackageFromDirectory, readPackageFromTarGz, type PackageResult} from '../margo/package/package.ts'
import {normaliseRelativePath} from '../margo/package/paths.ts'
import type {FieldError} from '../margo/result.ts'
import type {ApplicationDescription} from '../margo/package/types.ts'

export type LintInputKind = 'directory' | 'description' | 'archive'

export interface LintProblem {
  path: string
  message: string
  code?: string
}

export interface LintReport {
  target: string
  kind: LintInputKind
  valid: boolean
  /** What the package describes, when the description could be read. */
  app?: {id: string, name: string, version: string, profiles: {id: string, type: string}[]}
  descriptionFile?: string
  /** Files of the package besides the description. */
  files?: string[]
  errors: LintProblem[]
  warnings: LintProblem[]
}

const RESOURCE_KEYS = ['descriptionFile', 'icon', 'licenseFile', 'releaseNotes'] as const

const problem = (e: FieldError): LintProblem => ({path: e.field, message: e.message, ...(e.code ? {code: e.code} : {})})

function appOf(d: ApplicationDescription): NonNullable<LintReport['app']> {
  return {
    id: d.metadata.id,
    name: d.metadata.name,
    version: d.metadata.version,
    profiles: d.deploymentProfiles.map(p => ({id: p.id, type: p.type})),
  }
}

/** Problems of one ApplicationDescription document (pure). */
export function lintDescription(source: string, target = 'margo.yaml'): LintReport {
  const parsed = parseApplicationDescription(source)
  if (!parsed.ok) {
    return {target, kind: 'description', valid: false, errors: parsed.errors.map(problem), warnings: parsed.warnings.map(problem)}
  }
  return {target, kind: 'description', valid: true, app: appOf(parsed.value), errors: [], warnings: parsed.warnings.map(problem)}
}

/**
 * The report for a package the catalog reader has read (pure). A valid package also gets a
 * warning for each file the description does not reference: an OCI registry only carries the
 * referenced resources, so such files are lost on `margo app push`.
 */
export function lintPackageResult(result: PackageResult, target: string, kind: 'directory' | 'archive'): LintReport {
  if (!result.ok) return {target, kind, valid: false, errors: result.errors.map(problem), warnings: []}
  const application = result.description.metadata.catalog.application ?? {}
  const referenced = new Set(RESOURCE_KEYS.map(k => application[k]).filter((p): p is string => p !== undefined))
  const warnings = result.warnings.map(problem)
  for (const file of result.resources) {
    if (!referenced.has(file.path)) {
      warnings.push({path: file.path, message: 'is not referenced from metadata.catalog.application; margo app push leaves it out', code: 'unreferenced-file'})
    }
  }
  return {
    target, kind, valid: true,
    app: appOf(result.description),
    descriptionFile: result.descriptionFile,
    files: result.resources.map(r => r.path),
    errors: [],
    warnings,
  }
}

const isGzip = (b: Uint8Array) => b.length > 2 && b[0] === 0x1f && b[1] === 0x8b

/** Lints a package directory, a package `.tar.gz` or a single description file; a path that cannot be read is a usage error. */
export async function lintPath(path: string): Promise<LintReport> {
  let isDirectory: boolean
  try {
    isDirectory = (await stat(path)).isDirectory()
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} — pass a package folder, a margo.yaml or a package .tar.gz`)
  }
  if (isDirectory) {
    const report = lintPackageResult(await readPackageFromDirectory(path), path, 'directory')
    return report.valid ? report : withDescriptionFindings(report, path)
  }
  const bytes = new Uint8Array(await readFile(path))
  if (isGzip(bytes)) return lintPackageResult(await readPackageFromTarGz(bytes), path, 'archive')
  if (/\.(tar\.gz|tgz)$/i.test(path)) {
    return {target: path, kind: 'archive', valid: false, errors: [{path: 'package', message: 'is named like a package archive but is not gzip data', code: 'not-gzip'}], warnings: []}
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    return {target: path, kind: 'description', valid: false, errors: [{path, message: 'is not UTF-8 text', code: 'encoding'}], warnings: []}
  }
  return lintDescription(text, path)
}

/**
 * The package reader stops at the description's errors. For a folder, lint goes on: the
 * description's warnings and the resource references it names are checked too, so one run
 * lists everything to fix.
 */
async function withDescriptionFindings(report: LintReport, dir: string): Promise<LintReport> {
  let names: string[]
  try {
    names = (await readdir(dir)).filter(n => /\.ya?ml$/i.test(n) && !n.startsWith('.')).sort()
  } catch {
    return report
  }
  const yamls: {name: string, text: string, doc: Record<string, unknown>}[] = []
  for (const name of names) {
    try {
      const text = await readFile(join(dir, name), 'utf8')
      const doc: unknown = parse(text)
      if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) yamls.push({name, text, doc: doc as Record<string, unknown>})
    } catch { /* the package reader already reported unreadable files */ }
  }
  const found = yamls.filter(y => y.doc.kind === 'ApplicationDescription')
  // A lone YAML file with a wrong or missing kind is most likely the description with a typo.
  const chosen = found.length === 1 ? found[0] : found.length === 0 && yamls.length === 1 ? yamls[0] : undefined
  if (!chosen) return report
  const {name, text, doc} = chosen
  const parsed = parseApplicationDescription(text)
  const errors = [...report.errors]
  const known = new Set(errors.map(e => `${e.path}\u0000${e.message}`))
  if (found.length === 0 && !parsed.ok) {
    for (const e of parsed.errors.map(problem)) if (!known.has(`${e.path}\u0000${e.message}`)) errors.push(e)
  }
  const application = ((doc.metadata as Record<string, unknown> | undefined)?.catalog as Record<string, unknown> | undefined)?.application
  if (typeof application === 'object' && application !== null) {
    for (const key of RESOURCE_KEYS) {
      const ref = (application as Record<string, unknown>)[key]
      if (typeof ref !== 'string') continue
      const safe = normaliseRelativePath(ref)
      if (safe === null || (await exists(join(dir, safe)))) continue
      const e = {path: `metadata.catalog.application.${key}`, message: `names ${JSON.stringify(safe)}, which is not in the package`, code: 'missing-resource'}
      if (!known.has(`${e.path}\u0000${e.message}`)) errors.push(e)
    }
  }
  return {...report, errors, warnings: [...report.warnings, ...parsed.warnings.map(problem)], descriptionFile: name}
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}
