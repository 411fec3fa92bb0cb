// The thread that talks to PostgreSQL for a serve process (see database.ts): it answers one
// request at a time on one connection, so a transaction's statements never interleave. Beside
// that connection it keeps, on connections of their own, what needs the database's attention
// while the process's thread is busy: the notifications it listens to (notices.ts) and the
// transaction that holds the controllers' advisory lock (leadership.ts).
import {type MessagePort, workerData} from 'node:worker_threads'
import postgres from 'postgres'
import {startLeadership} from './leadership.ts'
import {startNotices} from './notices.ts'

export type Call =
  /** `begin`: the transaction's BEGIN, sent just before the statement without waiting for it. */
  | {op: 'query', sql: string, params: unknown[], begin?: string}
  | {op: 'exec', sql: string, begin?: string}
  | {op: 'listen', fromInvalidation: number}
  | {op: 'lead', name: string}
  | {op: 'unlead', name: string}
  | {op: 'close'}
export type Request = Call & {id: number}

export type Answer =
  | {id: number, rows: Record<string, unknown>[], count: number}
  | {id: number, error: {message: string, code?: string}}

export interface WorkerData {
  url: string
  schema?: string
  flag: SharedArrayBuffer
  port: MessagePort
  /** Cache notices for the process's thread, which reads them synchronously (receiveMessageOnPort). */
  cachePort: MessagePort
  /** "Someone wrote events": the process's thread reacts to them as they come. */
  eventPort: MessagePort
  /** Set by the process's thread when it consults its caches (notices.ts beats only then). */
  demand: SharedArrayBuffer
}

const {url, schema, flag, port, cachePort, eventPort, demand} = workerData as WorkerData
const signal = new Int32Array(flag)

/** What every connection of the process shares: numbers as SQLite gives them, the schema, quiet notices. */
export const CONNECTION_OPTIONS = {
  connect_timeout: 5,
  idle_timeout: 0,
  // A peer that vanished (power, network) is noticed in seconds rather than after the default minute.
  keep_alive: 5,
  onnotice: () => {},
  // Counts and ids are 64-bit in PostgreSQL: the store treats them as numbers, as SQLite does.
  types: {bigint: {to: 20, from: [20], serialize: (x: unknown) => String(x), parse: (x: string) => Number(x)}},
  ...(schema ? {connection: {search_path: schema}} : {}),
}

// One connection: statements reach the server in the order the process runs them, and
// BEGIN … COMMIT sent as statements stay on the connection that began them.
const sql = postgres(url, {...CONNECTION_OPTIONS, max: 1})

let ready: Promise<unknown> | undefined = schema ? sql.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema.replaceAll('"', '""')}"`) : undefined
const leadership = startLeadership(url, CONNECTION_OPTIONS)
let notices: ReturnType<typeof startNotices> | undefined

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
    switch (req.op) {
      case 'close':
        await Promise.all([notices?.stop(), leadership.stop(), sql.end({timeout: 1})])
        return {id: req.id, rows: [], count: 0}
      case 'listen': {
        notices ??= startNotices(url, CONNECTION_OPTIONS, {fromInvalidation: req.fromInvalidation, cachePort, eventPort, demand: new Int32Array(demand)})
        return {id: req.id, rows: [{channels: await notices.channels}], count: 0}
      }
      case 'lead':
        return {id: req.id, rows: [{held: await leadership.hold(req.name)}], count: 0}
      case 'unlead':
        await leadership.release(req.name)
        return {id: req.id, rows: [], count: 0}
      default: {
        // Pipelined on the one connection: if BEGIN or the lock fails, the statement fails with it
        // (an aborted transaction refuses it), so it never runs outside the transaction.
        // postgres.js sends a query when it is first awaited: execute() fixes the order.
        const begun = req.begin === undefined ? undefined : sql.unsafe(req.begin).execute()
        const pending = (req.op === 'exec' ? sql.unsafe(req.sql) : sql.unsafe(req.sql, req.params as never[], {prepare: true})).execute()
        if (begun) await Promise.all([begun, pending.catch(() => {})])
        const result = await pending
        // A multi-statement exec answers with one result per statement: only the count matters.
        const rows = Array.isArray(result[0]) ? [] : [...result].map(r => plain(r as Record<string, unknown>))
        return {id: req.id, rows, count: result.count ?? 0}
      }
    }
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
