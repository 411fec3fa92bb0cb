// The thread that talks to PostgreSQL for a serve process (see database.ts): it answers one
// request at a time on one connection, so a transaction's statements never interleave.
import {type MessagePort, workerData} from 'node:worker_threads'
import postgres from 'postgres'

export type Call =
  | {op: 'query', sql: string, params: unknown[]}
  | {op: 'exec', sql: string}
  | {op: 'close'}
export type Request = Call & {id: number}

export type Answer =
  | {id: number, rows: Record<string, unknown>[], count: number}
  | {id: number, error: {message: string, code?: string}}

const {url, schema, flag, port} = workerData as {url: string, schema?: string, flag: SharedArrayBuffer, port: MessagePort}
const signal = new Int32Array(flag)

const sql = postgres(url, {
  // One connection: statements reach the server in the order the process runs them, and
  // BEGIN … COMMIT sent as statements stay on the connection that began them.
  max: 1,
  connect_timeout: 5,
  idle_timeout: 0,
  onnotice: () => {},
  // Counts and ids are 64-bit in PostgreSQL: the store treats them as numbers, as SQLite does.
  types: {bigint: {to: 20, from: [20], serialize: (x: unknown) => String(x), parse: (x: string) => Number(x)}},
  ...(schema ? {connection: {search_path: schema}} : {}),
})

let ready: Promise<unknown> | undefined = schema ? sql.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema.replaceAll('"', '""')}"`) : undefined

function answer(a: Answer) {
  port.postMessage(a)
  Atomics.store(signal, 0, 1)
  Atomics.notify(signal, 0)
}

async function handle(req: Request): Promise<Answer> {
  try {
    if (ready) {
      await ready
      ready = undefined
    }
    if (req.op === 'close') {
      await sql.end({timeout: 1})
      return {id: req.id, rows: [], count: 0}
    }
    const result = req.op === 'exec' ? await sql.unsafe(req.sql) : await sql.unsafe(req.sql, req.params as never[], {prepare: true})
    // A multi-statement exec answers with one result per statement: only the count matters.
    const rows = Array.isArray(result[0]) ? [] : [...result].map(r => plain(r as Record<string, unknown>))
    return {id: req.id, rows, count: result.count ?? 0}
  } catch (err) {
    const e = err as {message?: string, code?: string}
    return {id: req.id, error: {message: e.message ?? String(err), ...(e.code ? {code: e.code} : {})}}
  }
}

/** Buffers arrive as Uint8Array (what bun:sqlite answers for a BLOB). */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(row)) if (v instanceof Uint8Array) row[k] = new Uint8Array(v)
  return row
}

port.on('message', (req: Request) => {
  void handle(req).then(answer)
})
