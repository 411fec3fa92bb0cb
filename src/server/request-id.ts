import {randomUUID} from 'node:crypto'

/** A caller's own X-Request-Id is kept when it is a plain token; anything else gets a fresh one. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/

/** The id of this request in the logs and in the `x-request-id` response header. */
export function requestIdOf(request: Request): string {
  const given = request.headers.get('x-request-id')
  return given && REQUEST_ID.test(given) ? given : randomUUID()
}
