/**
 * One problem found in a document. `field` is a JSON path such as
 * `properties.resources.cpu.cores` or `deploymentProfiles[1].components[0].name`; '' means the
 * document itself. `code` is a stable machine-readable tag for the kinds of problem callers
 * branch on (for example `immutable`); `message` is for people.
 */
export interface FieldError {
  field: string
  message: string
  code?: string
}

/** Validators return every problem they find, never just the first, so one 422 can list them all. */
export type Result<T> = {ok: true, value: T} | {ok: false, errors: FieldError[]}

export function ok<T>(value: T): Result<T> {
  return {ok: true, value}
}

export function fail<T>(errors: FieldError[]): Result<T> {
  return {ok: false, errors}
}

/** Extends a path the way messages print it: `a.b[2].c`. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`
  if (base === '') return key
  return /^[A-Za-z_$][\w$-]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`
}
