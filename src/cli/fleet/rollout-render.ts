import {renderProgress} from './waves-render.ts'
/**
 * Text for `margo rollout list|show|history`. On a terminal: aligned tables; piped: one
 * tab-separated line per rollout, deployment or revision.
 */
import type {RolloutDetail, RolloutHistory, RolloutRevision, RolloutSummary} from '../../operator-contract/views.ts'
import {type OutputContext, blocks, fields, formatTime, keyValues, section, table} from '../output.ts'

const targetText = (r: {selector: string | null, devices: string[]}) =>
  r.selector === null ? `${r.devices.length} device(s)` : r.selector === '' ? 'every device' : `selector ${r.selector}`

export function renderRolloutList(rollouts: RolloutSummary[], ctx: OutputContext): string {
  if (!ctx.tty) return rollouts.map(r => [r.name, r.rolloutId, r.appId, r.version ?? 'latest', r.revision, r.deployments, targetText(r)].join('\t')).join('\n')
  if (rollouts.length === 0) return 'no rollouts — create one with: margo deploy APP --device CLIENT_ID (or --selector)'
  return table(['name', 'app', 'version', 'revision', 'deployments', 'target', 'updated'],
    rollouts.map(r => [r.name, r.appId, r.version ?? 'latest', String(r.revision), String(r.deployments), targetText(r), formatTime(r.updatedAt, ctx)]), ctx)
}

export function renderRolloutDetail(r: RolloutDetail, ctx: OutputContext): string {
  if (!ctx.tty) {
    return [
      `rollout\t${r.name}\t${r.rolloutId}\t${r.appId}\t${r.appVersion ?? '-'}\t${r.revision}`,
      ...r.targets.map(d => `deployment\t${d.clientId}\t${d.deploymentId}\t${d.appVersion}\t${d.removedUnconfirmedAt ? 'removed-unconfirmed' : d.status?.state ?? 'unreported'}`),
      ...r.skipped.map(s => `skipped\t${s.clientId}\t${s.reason.replace(/[\t\n]+/g, ' ')}`),
      ...(r.progress ? [renderProgress(r.name, r.progress, ctx)] : []),
    ].join('\n')
  }
  const head = fields([
    {label: 'Rollout', key: 'rollout', value: `${r.name} (${r.rolloutId})`},
    {label: 'App', key: 'app', value: `${r.appId}@${r.appVersion ?? '?'}${r.version === null ? ' (follows the latest version)' : ''}`},
    {label: 'Revision', key: 'revision', value: String(r.revision)},
    {label: 'Target', key: 'target', value: targetText(r) + (r.selector === null ? `: ${r.devices.join(', ')}` : ' (live)')},
    {label: 'Profile', key: 'profile', value: r.profile ?? 'auto'},
    {label: 'Values', key: 'values', value: keyValues(r.values) || '(app defaults)'},
    {label: 'Updated', key: 'updated', value: formatTime(r.updatedAt, ctx)},
  ], ctx)
  const deployments = r.targets.length
    ? table(['device', 'deployment', 'version', 'state'], r.targets.map(d => [d.clientId, d.deploymentId, d.appVersion, d.status?.state ?? 'unreported']), ctx)
    : ''
  const skipped = r.skipped.length ? table(['device', 'reason'], r.skipped.map(s => [s.clientId, {text: s.reason, style: 'yellow' as const}]), ctx) : ''
  const waves = r.progress ? renderProgress(r.name, r.progress, ctx) : ''
  return blocks([head, section('Deployments', deployments, ctx), section('Skipped', skipped, ctx), section('Waves', waves, ctx)], ctx)
}

const revisionTarget = (h: RolloutRevision) => ('selector' in h.target ? `selector ${h.target.selector === '' ? '(every device)' : h.target.selector}` : `devices ${h.target.devices.join(',')}`)

export function renderRolloutHistory(h: RolloutHistory, ctx: OutputContext): string {
  if (!ctx.tty) {
    return h.history.map(r => [r.revision, r.createdAt, r.actor, r.version ?? 'latest', r.valuesDigest, revisionTarget(r), r.cause ?? ''].join('\t')).join('\n')
  }
  const rows = h.history.map(r => [
    `${r.revision}${r.revision === h.revision ? '*' : ''}`, formatTime(r.createdAt, ctx), r.actor, r.version ?? 'latest', r.profile ?? 'auto',
    r.valuesDigest.replace(/^sha256:/, ''), keyValues(r.values) || '-', revisionTarget(r), r.cause ?? (r.changed.length ? `changed ${r.changed.join(', ')}` : 'created'),
  ])
  return blocks([
    `rollout ${h.name} (${h.appId}), current revision ${h.revision} (*)`,
    table(['revision', 'time', 'actor', 'version', 'profile', 'values digest', 'values', 'target', 'change'], rows, ctx),
    `go back with: margo rollout undo ${h.name} [--to-revision N]`,
  ], ctx)
}
