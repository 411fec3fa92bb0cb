import type {Deployment, Enrollment} from '../../operator-contract/views.ts'
import type {Cell, Style} from '../output.ts'

/** How each deployment and enrollment state is coloured, on the command line and in the TUI alike. */
export const STATE_STYLE: Readonly<Record<string, Style>> = {
  active: 'green',
  installed: 'green',
  pending: 'yellow',
  installing: 'yellow',
  removing: 'yellow',
  unreported: 'yellow',
  failed: 'red',
  revoked: 'red',
  removed: 'dim',
}

export function stateCell(state: string): Cell {
  const style = STATE_STYLE[state]
  return style ? {text: state, style} : state
}

export function enrollmentCell(enrollment: Enrollment): Cell {
  return stateCell(enrollment)
}

/** The reported state, with the error code when it failed; `unreported` until the device reports. */
export function deploymentState(d: Deployment): string {
  const status = d.status
  if (!status) return 'unreported'
  const code = status.error && 'code' in status.error ? status.error.code : undefined
  return code ? `${status.state} (${code})` : status.state
}

export function deploymentStateCell(d: Deployment): Cell {
  const text = deploymentState(d)
  const style = STATE_STYLE[d.status?.state ?? 'unreported']
  return style ? {text, style} : text
}
