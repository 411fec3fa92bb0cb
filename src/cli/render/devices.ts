import type {Device, DeviceCapabilities, DeviceReplacement, DeviceWithDeployments} from '../../operator-contract/views.ts'
import {type Field, type OutputContext, blocks, fields, formatTime, keyValues, section, table} from '../output.ts'
import {deploymentTable} from './deployments.ts'
import {enrollmentCell} from './states.ts'

export function renderDeviceList(devices: readonly Device[], ctx: OutputContext): string {
  if (devices.length === 0) {
    return ctx.tty
      ? 'no devices yet — start an agent on a device: margo agent --server https://HOST:PORT --ca-fingerprint sha256:… (margo serve prints both when it starts)'
      : ''
  }
  const rows = devices.map(d => [
    d.clientId,
    d.tombstone ? d.tombstone.reason : enrollmentCell(d.enrollment),
    d.capabilities?.properties?.id ?? '',
    keyValues(d.labels, ','),
    formatTime(d.lastSeenAt, ctx),
    ctx.tty ? d.certificate.notAfter.slice(0, 10) : d.certificate.notAfter,
  ])
  return table(['client id', 'enrollment', 'device id', 'labels', 'last seen', 'cert expires'], rows, ctx)
}

function architectures(cpu: {architecture?: string | string[]; architectures?: string[]} | undefined): string {
  const value = cpu?.architectures ?? cpu?.architecture
  return Array.isArray(value) ? value.join(',') : (value ?? '')
}

export function capabilityFields(capabilities: DeviceCapabilities): Field[] {
  const p = capabilities.properties ?? {}
  const r = p.resources ?? {}
  const cpu = r.cpu ? [r.cpu.cores !== undefined ? `${r.cpu.cores} cores` : '', architectures(r.cpu)].filter(Boolean).join(' ') : ''
  const peripherals = (r.peripherals ?? []).map(x => [x.type, x.manufacturer, x.model].filter(Boolean).join(' ')).join(', ')
  const interfaces = (r.interfaces ?? []).map(x => x.type).join(', ')
  const rows: [string, string, string | undefined][] = [
    ['Device ID', 'capabilities.id', p.id],
    ['Vendor', 'capabilities.vendor', p.vendor],
    ['Model', 'capabilities.modelNumber', p.modelNumber],
    ['Serial', 'capabilities.serialNumber', p.serialNumber],
    ['Roles', 'capabilities.roles', p.roles?.join(', ')],
    ['CPU', 'capabilities.cpu', cpu],
    ['Memory', 'capabilities.memory', r.memory],
    ['Storage', 'capabilities.storage', r.storage],
    ['Peripherals', 'capabilities.peripherals', peripherals],
    ['Interfaces', 'capabilities.interfaces', interfaces],
  ]
  return rows.filter(([, , v]) => v).map(([label, key, value]) => ({label, key, value: value as string}))
}

export function deviceFields(d: Device, ctx: OutputContext): Field[] {
  return [
    {label: 'Client ID', key: 'clientId', value: d.clientId},
    {label: 'Enrollment', key: 'enrollment', value: enrollmentCell(d.enrollment)},
    {label: 'Labels', key: 'labels', value: keyValues(d.labels) || (ctx.tty ? '(none)' : '')},
    {label: 'Onboarded', key: 'onboardedAt', value: formatTime(d.onboardedAt, ctx)},
    {label: 'Last seen', key: 'lastSeenAt', value: formatTime(d.lastSeenAt, ctx)},
    {label: 'Manifest', key: 'manifestVersion', value: String(d.manifestVersion)},
    {label: 'Certificate', key: 'certificate.fingerprint', value: d.certificate.fingerprint},
    {label: 'Subject', key: 'certificate.subject', value: d.certificate.subject},
    {label: 'Key type', key: 'certificate.keyType', value: d.certificate.keyType},
    {label: 'Expires', key: 'certificate.notAfter', value: formatTime(d.certificate.notAfter, ctx)},
    {label: 'Not after', key: 'notAfter', value: d.certificate.notAfter},
    ...(d.tombstone ? [{label: 'Tombstone', key: 'tombstone', value: `${d.tombstone.reason} ${d.tombstone.at}${d.tombstone.replacedBy ? ` by ${d.tombstone.replacedBy}` : ''}${d.tombstone.reonboardAllowed ? ' (may onboard again)' : ''}`}] : []),
  ]
}

/** What follows from the enrollment state, as a next step for the operator. */
export function enrollmentHint(d: Device): string {
  if (d.enrollment === 'pending') return `pending approval — run: margo device approve ${d.clientId}`
  if (d.tombstone?.reason === 'replaced') return `replaced by ${d.tombstone.replacedBy} — kept as a record; its certificate cannot onboard again`
  if (d.tombstone) return `${d.tombstone.reason} — kept as a record; its certificate ${d.tombstone.reonboardAllowed ? 'may onboard again' : 'cannot onboard again (margo device delete --allow-reonboard allows it)'}`
  if (d.enrollment === 'revoked') return 'revoked — its signed requests are refused'
  return ''
}

export function renderDevice(d: DeviceWithDeployments, ctx: OutputContext): string {
  const caps = d.capabilities
    ? section(`Capabilities (reported ${formatTime(d.capabilitiesUpdatedAt, ctx, 'at onboarding')})`, fields(capabilityFields(d.capabilities), ctx), ctx)
    : d.unreadable?.includes('capabilities')
      ? section('Capabilities', 'unreadable — the stored report cannot be shown; the device replaces it when it reports again', ctx)
      : section('Capabilities', ctx.tty ? 'not reported yet' : '', ctx)
  const deployments = d.deployments.length
    ? section('Deployments', deploymentTable(d.deployments, ctx, {withDevice: false}), ctx)
    : section('Deployments', ctx.tty ? `none — deploy with: margo deploy <appId> --device ${d.clientId}` : '', ctx)
  // Piped, deployment rows are prefixed so they cannot be mistaken for key/value lines.
  const pipedDeployments = ctx.tty ? deployments : deployments.split('\n').filter(Boolean).map(l => `deployment\t${l}`).join('\n')
  const hint = ctx.tty ? enrollmentHint(d) : ''
  return blocks([fields(deviceFields(d, ctx), ctx), hint, caps, pipedDeployments], ctx)
}

/** After approve/revoke/reject/delete. */
export function renderEnrollmentChange(d: Device, ctx: OutputContext): string {
  if (!ctx.tty) return `${d.clientId}\t${d.tombstone?.reason ?? d.enrollment}`
  if (d.tombstone) return `device ${d.clientId}: ${enrollmentHint(d)}`
  const next =
    d.enrollment === 'active'
      ? `device ${d.clientId} is active — deploy to it with: margo deploy <appId> --device ${d.clientId}`
      : d.enrollment === 'revoked'
        ? `device ${d.clientId} is revoked — its signed requests are now refused`
        : `device ${d.clientId} is ${d.enrollment}`
  return next
}

/** After `margo device replace`. */
export function renderReplacement(r: DeviceReplacement, ctx: OutputContext): string {
  if (!ctx.tty) return `${r.old.clientId}\treplaced\t${r.new.clientId}`
  const lines = [`device ${r.new.clientId} replaces ${r.old.clientId}${r.approved ? ' (approved)' : ''}; ${r.old.clientId} is revoked`]
  const labels = keyValues(r.labels)
  if (labels) lines.push(`  labels taken over: ${labels}`)
  for (const x of r.rollouts) lines.push(`  rollout ${x.name} lists it now (revision ${x.revision})`)
  return lines.join('\n')
}
