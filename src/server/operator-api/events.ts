import {Elysia} from 'elysia'
import {OPERATOR_PREFIX, type OperatorApiContext} from './context.ts'

/** Server-sent events for live operator views. */
export function eventRoutes(_ctx: OperatorApiContext) {
  return new Elysia({name: 'margo-operator-events', prefix: OPERATOR_PREFIX})
}
