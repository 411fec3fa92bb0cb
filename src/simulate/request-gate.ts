import type {FetchLike} from '../agent/device-client.ts'

/**
 * Requests the simulator lets be in flight at once: the number of idle keep-alive connections
 * Bun's fetch keeps per server. Up to this many, every request rides a connection the pool
 * already holds. Beyond it each extra request opens a new TLS connection that is closed again
 * after one answer, so a large fleet spends the shared cores on handshakes; the simulator then
 * falls behind on some connections by more than the ten seconds or so `margo serve` (Bun) gives
 * a new connection to deliver its first request, and the server closes them: resets.
 */
export const REQUESTS_IN_FLIGHT = 64

/** At most `limit` tasks run at once; the others wait in order of arrival. */
export interface Gate {
  run<T>(task: () => Promise<T>): Promise<T>
  readonly inFlight: number
}

export function createGate(limit: number): Gate {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a gate needs a limit of at least 1, not ${limit}`)
  const waiting: (() => void)[] = []
  let inFlight = 0
  const release = () => {
    const next = waiting.shift()
    if (next) next()
    else inFlight--
  }
  return {
    get inFlight() { return inFlight },
    async run<T>(task: () => Promise<T>): Promise<T> {
      // A slot is handed straight from the task that ends to the next in line.
      if (inFlight < limit) inFlight++
      else await new Promise<void>(resolve => waiting.push(resolve))
      try {
        return await task()
      } finally {
        release()
      }
    },
  }
}

/** Statuses whose responses cannot carry a body (the Response constructor refuses one). */
const NULL_BODY = new Set([204, 205, 304])

/**
 * `fetch` through the gate. The slot is held until the body has been read, because only then
 * does the connection go back to the pool for the next request; the body is handed on in memory.
 */
export function gatedFetch(gate: Gate, fetchImpl: FetchLike = (input, init) => fetch(input, init)): FetchLike {
  return (input, init) => gate.run(async () => {
    const res = await fetchImpl(input, init)
    const body = await res.arrayBuffer()
    return new Response(NULL_BODY.has(res.status) ? null : body, {status: res.status, statusText: res.statusText, headers: res.headers})
  })
}
