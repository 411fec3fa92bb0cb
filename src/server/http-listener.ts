import {PROBLEM_MEDIA_TYPE} from '../margo/media-types.ts'
import {problem} from '../margo/problems.ts'
import type {Logger} from '../util/log.ts'

/**
 * How `margo serve` asks Bun to listen, beyond address, TLS and body size. Elysia's defaults suit
 * a development machine, not a fleet manager, so each of them is overridden here.
 */
export function listenerOptions(log: Logger) {
  return {
    // With SO_REUSEPORT a second server binds the same port and the kernel splits devices between the two.
    reusePort: false,
    // Development mode answers an unhandled error with Bun's error page: source lines and a stack, to any client.
    development: false,
    /**
     * Last resort for an error that escaped the routes and the app's error hook. Bun does not say
     * which request failed, so the answer is the device interface's plain problem, without details.
     * (Malformed requests that Bun's parser refuses never get here: see docs/device-interface.md.)
     */
    error(err: Error): Response {
      log.error('http.unhandled', {error: err instanceof Error ? err.message : String(err)})
      const p = problem('internal-error', 'The server failed to handle the request; it has been logged.')
      return new Response(JSON.stringify(p.body), {status: p.status, headers: {'content-type': PROBLEM_MEDIA_TYPE}})
    },
  }
}
