/**
 * A problem found while reading a document, located by a path such as
 * `deploymentProfiles[1].components[0].name`. `code` is a stable machine-readable tag for the
 * kinds of problem callers branch on (for example `immutable`); `message` is for people.
 */
export interface FieldError {
  field: string
  message: string
  code?: string
}

/** Joins path segments the way the messages print them: `a.b[2].c`. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`
  if (base === '') return key
  return /^[A-Za-z_$][\w$-]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`
}

/** Collects errors and warnings while one document is checked, so every problem is reported. */
export class Findings {
  readonly errors: FieldError[] = []
  readonly warnings: FieldError[] = []

  error(field: string, message: string, code?: string): void {
    this.errors.push(code === undefined ? {field, message} : {field, message, code})
  }

  warn(field: string, message: string, code?: string): void {
    this.warnings.push(code === undefined ? {field, message} : {field, message, code})
  }
}
