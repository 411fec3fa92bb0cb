import type {Deployment, DeploymentWithTimeline} from '../../operator-contract/views.ts'
import {type Cell, type Field, type OutputContext, blocks, fields, formatTime, keyValues, section, table} from '../output.ts'
import {deploymentStateCell, stateCell} from './states.ts'

/** Deployments of the whole fleet, or of one device (then without the device column). */
export function deploymentTable(deployments: readonly Deployment[], ctx: OutputContext, options: {withDevice?: boolean} = {}): string {
  const withDevice = options.withDevice ?? true
  const headers = ['deployment', ...(withDevice ? ['device'] : []), 'app', 'version', 'profile', 'desired', 'state', 'updated']
  const rows = deployments.map((d): Cell[] => [
    d.deploymentId,
    ...(withDevice ? [d.clientId] : []),
    d.appId,
    d.appVersion,
    d.profile.type,
    d.desired,
    deploymentStateCell(d),
    formatTime(d.status?.reportedAt ?? d.updatedAt, ctx),
  ])
  return table(headers, rows, ctx)
}

export function deploymentFields(d: Deployment, ctx: OutputContext): Field[] {
  const error = d.status?.error && 'message' in d.status.error ? d.status.error : undefined
  return [
    {label: 'Deployment', key: 'deploymentId', value: d.deploymentId},
    {label: 'Device', key: 'clientId', value: d.clientId},
    {label: 'App', key: 'app', value: `${d.appId}@${d.appVersion}`},
    {label: 'Profile', key: 'profile', value: `${d.profile.type} (${d.profile.id})`},
    {label: 'Values', key: 'values', value: keyValues(d.values) || '(defaults)'},
    {label: 'Digest', key: 'digest', value: d.digest},
    {label: 'Desired', key: 'desired', value: d.desired},
    {label: 'State', key: 'state', value: deploymentStateCell(d)},
    ...(error ? [{label: 'Error', key: 'error', value: {text: `${error.code}: ${error.message}`, style: 'red' as const}}] : []),
    {label: 'Reported', key: 'reportedAt', value: formatTime(d.status?.reportedAt, ctx)},
    {label: 'Updated', key: 'updatedAt', value: formatTime(d.updatedAt, ctx)},
  ]
}

/** One deployment with its components and, when present, its timeline. */
export function renderDeployment(d: Deployment | DeploymentWithTimeline, ctx: OutputContext): string {
  const components = d.status?.components ?? []
  const componentTable = components.length
    ? table(
        ['component', 'state', 'error'],
        components.map(c => [c.name, stateCell(c.state), c.error && 'code' in c.error ? `${c.error.code}: ${c.error.message}` : '']),
        ctx,
      )
    : ''
  const timeline = 'timeline' in d ? d.timeline : []
  const timelineTable = timeline.length
    ? table(
        ['at', 'state', 'error'],
        timeline.map(t => [formatTime(t.at, ctx), stateCell(t.state), t.error ? `${t.error.code}: ${t.error.message}` : '']),
        ctx,
      )
    : ''
  if (!ctx.tty) return fields(deploymentFields(d, ctx), ctx)
  return blocks(
    [fields(deploymentFields(d, ctx), ctx), section('Components', componentTable, ctx), section('Timeline', timelineTable, ctx)],
    ctx,
  )
}
