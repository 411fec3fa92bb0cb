import {Elysia} from 'elysia'
import {OPERATOR_PREFIX, type OperatorApiContext} from './context.ts'

/** Device labels and fleet-wide rollouts. */
export function fleetRoutes(_ctx: OperatorApiContext) {
  return new Elysia({name: 'margo-operator-fleet', prefix: OPERATOR_PREFIX})
}
