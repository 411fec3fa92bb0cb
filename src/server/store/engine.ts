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
  /** What an engine shared by several nodes offers them (PostgreSQL); SQLite has none. */
  readonly signals?: ClusterSignals
}

export type NoticeTopic = 'cache' | 'events'

/**
 * PostgreSQL's LISTEN/NOTIFY and advisory locks, as the serve processes of several nodes use them
 * (postgres/notices.ts, postgres/leadership.ts).
 */
export interface ClusterSignals {
  /** Tells every listening process about `topic` when the current transaction commits: once, however many writes. */
  notifyOnCommit(topic: NoticeTopic): void
  /** Calls `fn` (soon, on the event loop) when some process wrote events; returns how to stop. */
  onEvents(fn: () => void): () => void
  /** Claims or keeps leadership of the job `name`: true while this process holds it. */
  lead(name: string): boolean
  /** Gives leadership up at once. */
  unlead(name: string): void
}

/** Where a store lives: a SQLite file (or `:memory:`) or a PostgreSQL URL. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location)
}
