import {Elysia} from 'elysia'
import {OPERATOR_PREFIX, deviceVisible, operatorHandler, principalOf, queryString, type OperatorApiContext} from './context.ts'
import {OperatorError, badRequest} from './errors.ts'
import type {ServerEvent} from '../../operator-contract/events.ts'
import {type Every, eventLogFor, eventStream, parseLastEventId, parseTypeFilter} from '../fleet-status/event-stream.ts'

export interface EventRouteOptions {
  /** Comment sent on an idle stream so proxies and clients can tell it is alive (default 15 s). */
  heartbeatMs?: number
  every?: Every
}

function acceptsEventStream(accept: string | null): boolean {
  if (!accept) return true
  return accept.split(',').some(part => {
    const type = part.split(';')[0]!.trim().toLowerCase()
    return type === 'text/event-stream' || type === 'text/*' || type === '*/*'
  })
}

/**
 * `GET /operator/v1/events`: server-sent events for live operator views (docs/watching.md).
 * Every ServerEvent is forwarded as `event: <type>`, `id: <n>`, `data: <json>`.
 */
export function eventRoutes(ctx: OperatorApiContext, options: EventRouteOptions = {}) {
  const handle = operatorHandler(ctx)
  // Created with the routes, not with the first stream, so events before any watcher connects
  // can still be replayed to a client that reconnects with Last-Event-ID.
  const log = eventLogFor(ctx.events)
  return new Elysia({name: 'margo-operator-events', prefix: OPERATOR_PREFIX})
    .get('/events', ({request, query, server}) => handle(request, () => {
      if (!acceptsEventStream(request.headers.get('accept'))) {
        throw new OperatorError(406, 'not_acceptable', 'this endpoint only answers text/event-stream — send Accept: text/event-stream')
      }
      const types = parseTypeFilter(queryString(query.types))
      if (!types.ok) throw badRequest(types.message, [{path: 'types', message: types.message}])
      const lastEventId = parseLastEventId(request.headers.get('last-event-id') ?? queryString(query.lastEventId))
      // The heartbeat keeps the stream busy, but Bun's default idle timeout (10 s) is shorter.
      server?.timeout(request, 0)
      ctx.log.debug('events.open', {types: types.types, lastEventId})
      // A scoped token follows only the devices of its scope (events about no device, such as a
      // new app version, are everyone's); a device that leaves the scope drops out of its stream.
      const scoped = principalOf(request)?.scope ? (event: ServerEvent) => {
        if (!('clientId' in event)) return true
        const client = ctx.store.getClient(event.clientId)
        return client !== null && deviceVisible(request, client)
      } : undefined
      const body = eventStream({
        log, filter: types.filter, lastEventId, signal: request.signal, ...(scoped ? {visible: scoped} : {}),
        heartbeatMs: options.heartbeatMs, every: options.every,
        onClose: () => ctx.log.debug('events.close', {}),
      })
      return new Response(body, {
        headers: {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-store',
          // Reverse proxies (nginx) would otherwise hold events back in their buffer.
          'x-accel-buffering': 'no',
        },
      })
    }))
}
