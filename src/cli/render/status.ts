import type {StatusReport} from '../../client/fleet.ts'
import type {FleetStatus} from '../../client/types.ts'
import {type OutputContext, blocks, fields, paint, section} from '../output.ts'
import {deploymentTable} from './deployments.ts'
import {enrollmentHint} from './devices.ts'
import {enrollmentCell} from './states.ts'

const STATE_ORDER = ['installed', 'installing', 'pending', 'failed', 'removing', 'removed']

function byStateEntries(status: FleetStatus): [string, number][] {
  const entries = Object.entries(status.deployments.byState).filter(([, n]) => n > 0)
  const rank = (s: string) => (STATE_ORDER.indexOf(s) + STATE_ORDER.length + 1) % (STATE_ORDER.length + 1)
  return entries.sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
}

export function renderFleetSummary(status: FleetStatus, ctx: OutputContext): string {
  const d = status.devices
  if (!ctx.tty) {
    return [
      `devices.total\t${d.total}`,
      `devices.active\t${d.active}`,
      `devices.pending\t${d.pending}`,
      `devices.revoked\t${d.revoked}`,
      `deployments.total\t${status.deployments.total}`,
      ...byStateEntries(status).map(([s, n]) => `deployments.${s}\t${n}`),
    ].join('\n')
  }
  const pending = d.pending ? paint(`${d.pending} pending`, 'yellow', ctx) : '0 pending'
  const devices = `${d.total} total, ${d.active} active, ${pending}, ${d.revoked} revoked`
  const states = byStateEntries(status)
    .map(([s, n]) => paint(`${n} ${s}`, s === 'failed' ? 'red' : undefined, ctx))
    .join(', ')
  const deployments = `${status.deployments.total} total${states ? `, ${states}` : ''}`
  const lines = fields(
    [
      {label: 'Devices', key: 'devices', value: devices},
      {label: 'Deployments', key: 'deployments', value: deployments},
    ],
    ctx,
  )
  return d.pending ? `${lines}\n${paint('approve pending devices with: margo device approve <clientId>', 'dim', ctx)}` : lines
}

export function renderStatus(report: StatusReport, ctx: OutputContext): string {
  if (report.scope === 'fleet') {
    const table = report.deployments.length
      ? deploymentTable(report.deployments, ctx)
      : ctx.tty
        ? 'no deployments — create one with: margo deploy <appId> --device <clientId>'
        : ''
    return blocks([renderFleetSummary(report.status, ctx), section('Deployments', table, ctx)], ctx)
  }
  const {device} = report
  if (!ctx.tty) return deploymentTable(report.deployments, ctx)
  const header = fields(
    [
      {label: 'Device', key: 'clientId', value: device.clientId},
      {label: 'Enrollment', key: 'enrollment', value: enrollmentCell(device.enrollment)},
    ],
    ctx,
  )
  const hint = enrollmentHint(device)
  const table = report.deployments.length
    ? deploymentTable(report.deployments, ctx, {withDevice: false})
    : `no deployments — create one with: margo deploy <appId> --device ${device.clientId}`
  return blocks([header + (hint ? `\n${hint}` : ''), table], ctx)
}

/** The JSON document of `margo status`. */
export function statusJson(report: StatusReport): unknown {
  return report.scope === 'fleet'
    ? {devices: report.status.devices, deployments: {...report.status.deployments, items: report.deployments}}
    : {device: report.device, deployments: report.deployments}
}
