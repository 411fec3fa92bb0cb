import type {DeploymentComponent} from '../../margo/deployment.ts'
import type {ComponentListener, ComponentResult, DriverContext} from '../types.ts'
import {DriverError} from './errors.ts'

/** Turns anything a step threw into the error reported for its component. */
function reportedFailure(e: unknown, component: DeploymentComponent, ctx: DriverContext): ComponentResult['error'] {
  if (e instanceof DriverError) return e.toReported()
  ctx.log.warn('driver.internal_error', {component: component.name, error: e instanceof Error ? (e.stack ?? e.message) : String(e)})
  return {code: 'DRIVER_INTERNAL_ERROR', message: `unexpected error while handling ${component.name}: ${e instanceof Error ? e.message : String(e)}`}
}

/**
 * Installs components strictly in the listed order: `installing` is reported before each one
 * starts, `installed` once its step returns. The first failure stops the run; that component is
 * `failed` and those after it stay `pending`. A shutdown between components leaves the rest
 * `pending` as well.
 */
export async function installInOrder(components: readonly DeploymentComponent[], ctx: DriverContext, onComponent: ComponentListener | undefined, step: (component: DeploymentComponent, index: number) => Promise<void>): Promise<ComponentResult[]> {
  const results: ComponentResult[] = components.map(c => ({name: c.name, state: 'pending'}))
  const emit = (i: number, result: ComponentResult) => {
    results[i] = result
    onComponent?.(result)
  }
  for (const [i, component] of components.entries()) {
    if (ctx.signal?.aborted) break
    emit(i, {name: component.name, state: 'installing'})
    try {
      await step(component, i)
      emit(i, {name: component.name, state: 'installed'})
    } catch (e) {
      emit(i, {name: component.name, state: 'failed', error: reportedFailure(e, component, ctx)})
      break
    }
  }
  return results
}

/**
 * Removes components in reverse order, reporting `removing` then `removed` or `failed` for
 * each. A failure does not stop the others: whatever can be removed is. Results come back in the
 * deployment's order; components a shutdown kept from being handled stay `removing`.
 */
export async function removeInReverse(components: readonly DeploymentComponent[], ctx: DriverContext, onComponent: ComponentListener | undefined, step: (component: DeploymentComponent, index: number) => Promise<void>): Promise<ComponentResult[]> {
  const results: ComponentResult[] = components.map(c => ({name: c.name, state: 'removing'}))
  const emit = (i: number, result: ComponentResult) => {
    results[i] = result
    onComponent?.(result)
  }
  for (let i = components.length - 1; i >= 0; i--) {
    const component = components[i]!
    if (ctx.signal?.aborted) break
    emit(i, {name: component.name, state: 'removing'})
    try {
      await step(component, i)
      emit(i, {name: component.name, state: 'removed'})
    } catch (e) {
      emit(i, {name: component.name, state: 'failed', error: reportedFailure(e, component, ctx)})
    }
  }
  return results
}

/** Asks about every component independently; a failing probe makes only that component `failed`. */
export async function statusOfEach(components: readonly DeploymentComponent[], ctx: DriverContext, probe: (component: DeploymentComponent) => Promise<Omit<ComponentResult, 'name'>>): Promise<ComponentResult[]> {
  const results: ComponentResult[] = []
  for (const component of components) {
    try {
      results.push({name: component.name, ...(await probe(component))})
    } catch (e) {
      results.push({name: component.name, state: 'failed', error: reportedFailure(e, component, ctx)})
    }
  }
  return results
}
