/**
 * Text for the fleet commands (deploy, undeploy, device label). On a terminal: a headline,
 * aligned tables and, for a dry run, each device's YAML or diff. Piped: one tab-separated
 * line per device (`target`, `skipped`, `removed` first), then the dry-run documents.
 */
import type {FleetDeployOutcome, UndeployResult, WaitProgress} from '../../client/rollouts.ts'
import type {Device, RolloutResult} from '../../operator-contract/views.ts'
import {type OutputContext, blocks, keyValues, paint, section, table} from '../output.ts'
import {renderUndeployResult} from '../render/results.ts'

const shortDigest = (d: string) => d.replace(/^sha256:/, '').slice(0, 12)

function headline(r: RolloutResult): string {
  const app = `${r.appId}@${r.appVersion}${r.version === null ? ' (follows the latest version)' : ''}`
  const scope = r.selector === null ? `${r.devices.length} listed device(s)` : r.selector === '' ? 'every device (live)' : `selector ${JSON.stringify(r.selector)} (live)`
  const counts = `${r.targets.length} target(s), ${r.skipped.length} skipped${r.removed.length ? `, ${r.removed.length} removed` : ''}`
  const verb = r.change === 'created' ? 'create' : r.change === 'updated' ? `update (${r.changed.join(', ')})` : 'unchanged'
  if (r.dryRun) return `dry run — nothing was changed: rollout ${r.name} would ${r.change === 'unchanged' ? 'stay unchanged' : `${verb} to revision ${r.revision}`}: ${app} to ${scope}: ${counts}`
  const what = r.change === 'unchanged' ? `unchanged at revision ${r.revision}` : `${r.change} (revision ${r.revision}${r.changed.length ? `: ${r.changed.join(', ')} changed` : ''})`
  return `rollout ${r.name} ${what}: ${app} to ${scope}: ${counts}`
}

function colourDiff(diff: string, ctx: OutputContext): string {
  if (!ctx.color) return diff
  return diff.split('\n').map(l => (/^(\+\+\+|---) /.test(l) ? paint(l, 'bold', ctx) : l.startsWith('+') ? paint(l, 'green', ctx) : l.startsWith('-') ? paint(l, 'red', ctx) : l.startsWith('@@') ? paint(l, 'cyan', ctx) : l)).join('\n')
}

function dryRunDocuments(r: RolloutResult, ctx: OutputContext): string {
  return blocks(r.targets.map(t => {
    const title = `# device ${t.clientId}: ${t.action}${t.deploymentId ? ` deployment ${t.deploymentId}` : ''}`
    const body = t.action === 'update' ? colourDiff(t.diff ?? '', ctx) : t.action === 'create' ? (t.yaml ?? '') : '(no change)'
    return `${paint(title, 'bold', ctx)}\n${body.trimEnd()}`
  }), ctx)
}

export function renderRolloutResult(r: RolloutResult, ctx: OutputContext): string {
  if (!ctx.tty) {
    const lines = [
      `rollout\t${r.rolloutId ?? '-'}\t${r.name}\t${r.revision}\t${r.change}`,
      ...r.targets.map(t => `target\t${t.clientId}\t${t.deploymentId ?? '-'}\t${t.action}\t${t.appVersion}\t${t.profile.type}\t${t.digest}`),
      ...r.removed.map(x => `removed\t${x.clientId}\t${x.deploymentId}`),
      ...r.skipped.map(s => `skipped\t${s.clientId}\t${s.reason.replace(/[\t\n]+/g, ' ')}`),
    ]
    return [lines.join('\n'), r.dryRun ? dryRunDocuments(r, ctx) : ''].filter(Boolean).join('\n')
  }
  const targets = r.targets.length
    ? table(['device', 'deployment', 'action', 'version', 'profile', 'digest'],
        r.targets.map(t => [t.clientId, t.deploymentId ?? '(new)', t.action, t.appVersion, t.profile.type, shortDigest(t.digest)]), ctx)
    : ''
  const removed = r.removed.length ? table(['device', 'deployment'], r.removed.map(x => [x.clientId, x.deploymentId]), ctx) : ''
  const skipped = r.skipped.length ? table(['device', 'reason'], r.skipped.map(s => [s.clientId, {text: s.reason, style: 'yellow' as const}]), ctx) : ''
  const hint = r.dryRun
    ? ''
    : r.targets.length === 0 && r.selector !== null
      ? 'no device gets it yet; devices that come to match the selector will'
      : r.rolloutId ? `follow it with: margo rollout show ${r.name}; go back with: margo rollout undo ${r.name}; remove it with: margo undeploy ${r.name}` : ''
  return blocks([
    headline(r),
    section('Targets', targets, ctx),
    section('Removed', removed, ctx),
    section('Skipped', skipped, ctx),
    r.dryRun ? dryRunDocuments(r, ctx) : '',
    hint,
  ], ctx)
}

/** The `--json` document of `margo deploy`. With exactly one device named, its deploymentId is repeated at the top for scripts. */
export function deployJson(outcome: FleetDeployOutcome, options: {singleDevice: boolean}) {
  const {result, wait} = outcome
  const single = options.singleDevice && result.targets.length === 1 ? {deploymentId: result.targets[0]!.deploymentId} : {}
  return {
    ...single,
    ...result,
    ...(wait ? {wait: {outcome: wait.outcome, installed: wait.progress.installed, targets: wait.progress.targets}} : {}),
  }
}

const BAR_WIDTH = 24

/** One line of wait progress, redrawn in place on a terminal. */
export function progressLine(p: WaitProgress, ctx: OutputContext): string {
  const total = p.targets.length
  const filled = total === 0 ? BAR_WIDTH : Math.round((p.installed / total) * BAR_WIDTH)
  const bar = paint('█'.repeat(filled), 'green', ctx) + '░'.repeat(BAR_WIDTH - filled)
  const others = new Map<string, number>()
  for (const t of p.targets) if (t.state !== 'installed') others.set(t.state, (others.get(t.state) ?? 0) + 1)
  const rest = [...others].map(([state, n]) => `${n} ${state}`).join(', ')
  return `${bar} ${p.installed}/${total} installed${rest ? ` · ${rest}` : ''}`
}

/**
 * A progress callback: a bar redrawn in place on a terminal, and when piped one line per
 * device whenever its state changes (`<clientId>\t<deploymentId>\t<state>`).
 */
export function progressPrinter(ctx: OutputContext, write: (text: string) => void): {update: (p: WaitProgress) => void, end: () => void} {
  const seen = new Map<string, string>()
  let drawn = false
  return {
    update(p) {
      if (ctx.tty) {
        write(`\r\u001B[2K${progressLine(p, ctx)}`)
        drawn = true
        return
      }
      for (const t of p.targets) {
        if (seen.get(t.deploymentId) === t.state) continue
        seen.set(t.deploymentId, t.state)
        write(`${t.clientId}\t${t.deploymentId}\t${t.state}${t.error ? `\t${t.error.code}: ${t.error.message}` : ''}\n`)
      }
    },
    end() {
      if (drawn) write('\n')
    },
  }
}

export function renderWaitSummary(outcome: FleetDeployOutcome, ctx: OutputContext): string {
  const wait = outcome.wait
  if (wait?.outcome !== 'installed') return ''
  return ctx.tty ? paint(`all ${wait.progress.targets.length} target(s) installed`, 'green', ctx) : `installed\t${wait.progress.targets.length}`
}

export function renderUndeploy(r: UndeployResult, ctx: OutputContext): string {
  if (r.kind === 'deployment') return renderUndeployResult(r.deployment, ctx)
  if (!ctx.tty) return r.removed.map(x => `${x.deploymentId}\tabsent`).join('\n')
  const forgotten = new Set(r.forgotten.map(x => x.deploymentId))
  const all = [...r.removed, ...r.forgotten.filter(x => !r.removed.some(y => y.deploymentId === x.deploymentId))]
  const state = (id: string) => (forgotten.has(id) ? {text: 'removed-unconfirmed', style: 'yellow' as const} : 'removing')
  const list = all.length ? table(['device', 'deployment', 'state'], all.map(x => [x.clientId, x.deploymentId, state(x.deploymentId)]), ctx) : ''
  const headline = r.removed.length
    ? `rollout ${r.name} deleted; removing its ${r.removed.length} deployment(s) (each goes removing → removed); nothing else changes — follow it with: margo status`
    : r.forgotten.length ? `rollout ${r.name}: ${r.forgotten.length} removal(s) no device confirmed are recorded as removed-unconfirmed` : `rollout ${r.name} deleted; it had no deployments`
  return blocks([headline, list], ctx)
}

export function renderLabels(d: Device, ctx: OutputContext): string {
  if (!ctx.tty) return `${d.clientId}\t${keyValues(d.labels, ',')}`
  const labels = keyValues(d.labels, ', ')
  return `device ${d.clientId} labels: ${labels || '(none)'}`
}

