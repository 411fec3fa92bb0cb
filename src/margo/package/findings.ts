import type {FieldError} from '../result.ts'

/**
 * Collects errors and warnings while one package document is checked, so every problem is
 * reported. Packages have warnings too: spellings that are read but deserve the packager's
 * attention (a number read as a string, a plain-http URL).
 */
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
