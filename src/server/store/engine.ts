/**
 * The part of bun:sqlite's Database the store and the cluster modules use. SQLite is one engine;
 * the PostgreSQL adapter (postgres/database.ts) is the other. Both answer synchronously: a serve
 * process runs one statement at a time, inside a transaction or not, as it always did.
 */
export type SqlValue = string | number | bigint | boolean | null | Uint8Array
export type SqlRow = Record<string, unknown>

export interface SqlStatement {
  get(...params: SqlValue[]): unknown
  all(...params: SqlValue[]): unknown[]
  run(...params: SqlValue[]): {changes: number, lastInsertRowid: number | bigint}
  iterate(...params: SqlValue[]): IterableIterator<unknown>
}

export interface SqlTransaction<T> {
  (): T
  /** Takes the write lock when it begins: write transactions of all processes run one at a time. */
  immediate(): T
}

export interface SqlDatabase {
  query(sql: string): SqlStatement
  exec(sql: string): void
  transaction<T>(fn: () => T): SqlTransaction<T>
  readonly inTransaction: boolean
  close(): void
}

/** Where a store lives: a SQLite file (or `:memory:`) or a PostgreSQL URL. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location)
}
