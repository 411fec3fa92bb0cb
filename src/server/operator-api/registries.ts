import {Elysia} from 'elysia'
import {OPERATOR_PREFIX, type OperatorApiContext} from './context.ts'

/** Registries the catalog is filled from (owned by the registries feature). */
export function registryRoutes(_ctx: OperatorApiContext) {
  return new Elysia({name: 'margo-operator-registries', prefix: OPERATOR_PREFIX})
}
