import {joinPath, type FieldError, type Result} from './result.ts'

/**
 * Shared plumbing for the document validators: a sink that gathers every problem, and readers
 * that record a problem and return undefined instead of throwing, so validation goes on.
 */
export class Issues {
  readonly errors: FieldError[] = []

  add(field: string, message: string): void {
    this.errors.push({field, message})
  }

  result<T>(build: () => T): Result<T> {
    return this.errors.length > 0 ? {ok: false, errors: this.errors} : {ok: true, value: build()}
  }
}

export type Json = Record<string, unknown>

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

export function readObject(issues: Issues, parent: Json, key: string, path: string, required = true): Json | undefined {
  const at = joinPath(path, key)
  const value = parent[key]
  if (value === undefined) {
    if (required) issues.add(at, 'is required')
    return undefined
  }
  if (!isRecord(value)) {
    issues.add(at, `must be an object, got ${describe(value)}`)
    return undefined
  }
  return value
}

export function readArray(issues: Issues, parent: Json, key: string, path: string, required = true): unknown[] | undefined {
  const at = joinPath(path, key)
  const value = parent[key]
  if (value === undefined) {
    if (required) issues.add(at, 'is required')
    return undefined
  }
  if (!Array.isArray(value)) {
    issues.add(at, `must be an array, got ${describe(value)}`)
    return undefined
  }
  return value
}

/** A required string with at least one non-blank character. */
export function readText(issues: Issues, parent: Json, key: string, path: string, required = true): string | undefined {
  const at = joinPath(path, key)
  const value = parent[key]
  if (value === undefined || value === null) {
    if (required) issues.add(at, 'is required')
    return undefined
  }
  if (typeof value !== 'string') {
    issues.add(at, `must be a string, got ${describe(value)}`)
    return undefined
  }
  if (value.trim() === '') {
    issues.add(at, 'must not be empty')
    return undefined
  }
  return value
}

/** `kind` has to be exactly the document's kind: it is how a receiver knows what it was sent. */
export function readKind<K extends string>(issues: Issues, doc: Json, kind: K, path = ''): K | undefined {
  const at = joinPath(path, 'kind')
  const value = doc.kind
  if (value === undefined || value === null) {
    issues.add(at, `is required and must be '${kind}'`)
    return undefined
  }
  if (value !== kind) {
    issues.add(at, `must be '${kind}', got ${typeof value === 'string' ? `'${value}'` : describe(value)}`)
    return undefined
  }
  return kind
}

/** Matches an enum case-insensitively (and ignoring surrounding or repeated blanks) and returns its canonical spelling. */
export function matchEnum<T extends string>(value: unknown, members: readonly T[], aliases: Readonly<Record<string, T>> = {}): T | undefined {
  if (typeof value !== 'string') return undefined
  const key = value.trim().replace(/\s+/g, ' ').toLowerCase()
  return members.find(m => m.toLowerCase() === key) ?? aliases[key]
}

export function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : describe(value)
}
