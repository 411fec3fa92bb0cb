import {PROBLEM_MEDIA_TYPE} from '../margo/media-types.ts'
import {problem} from '../margo/problems.ts'
import type {Logger} from '../util/log.ts'

/**
 * How `margo serve` asks Bun to listen, beyond address, TLS and body size. Elysia's defaults suit
 * a development machine, not a fleet manager, so each of them is overridden here.
 */
export function listenerOptions(log: Logger, sharedPort = false) {
  return {
    /**
     * With SO_REUSEPORT a second server binds the same port and the kernel splits devices between
     * the two: only `serve --workers` sets it, on its own processes. Linux admits to the group
     * only sockets of the same user (so another account cannot take a share of the devices);
     * a program of the same user could, as it could read the data directory.
     */
    reusePort: sharedPort,
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
