/** Text for the package and registry commands: aligned on a terminal, tab-separated when piped. */
import type {PushResult} from '../oci/package.ts'
import type {Registry, SyncResult} from '../operator-contract/views.ts'
import {type Cell, type OutputContext, blocks, fields, formatTime, paint, section, table} from '../cli/output.ts'
import type {LintProblem, LintReport} from './lint.ts'

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/** Piped: one `error|warning<TAB>path<TAB>message` line per problem and nothing else when valid. */
export function renderLintReport(r: LintReport, ctx: OutputContext): string {
  const line = (severity: 'error' | 'warning', p: LintProblem) => [severity, p.path || '(document)', p.message]
  if (!ctx.tty) return table(['severity', 'path', 'message'], [...r.errors.map(p => line('error', p)), ...r.warnings.map(p => line('warning', p))], ctx)
  const what = r.app ? `${r.app.id} ${r.app.version}` : r.target
  const head = r.valid
    ? `${paint('✓', 'green', ctx)} ${what} is a valid ${r.kind === 'description' ? 'ApplicationDescription' : 'application package'}` +
      (r.app ? ` (${r.app.profiles.map(p => p.type).join(', ')})` : '') + (r.warnings.length ? `, ${plural(r.warnings.length, 'warning')}` : '')
    : `${paint('✗', 'red', ctx)} ${r.target} is invalid: ${plural(r.errors.length, 'error')}${r.warnings.length ? `, ${plural(r.warnings.length, 'warning')}` : ''}`
  const rows: Cell[][] = [
    ...r.errors.map(p => [{text: 'error', style: 'red' as const}, p.path || '(document)', p.message]),
    ...r.warnings.map(p => [{text: 'warning', style: 'yellow' as const}, p.path || '(document)', p.message]),
  ]
  return rows.length ? `${head}\n\n${table(['severity', 'path', 'message'], rows, ctx)}` : head
}

export function renderPushResult(r: PushResult, ctx: OutputContext): string {
  const ref = `${new URL(r.registry).host}/${r.repository}:${r.tag}`
  if (!ctx.tty) return fields([{label: 'Reference', key: 'reference', value: ref}, {label: 'Digest', key: 'digest', value: r.digest}], ctx)
  const layers = table(['media type', 'title', 'size', 'digest'], r.layers.map(l => [l.mediaType, l.title ?? '', String(l.size), l.digest.slice(0, 19)]), ctx)
  return blocks([
    `pushed ${ref} (${plural(r.uploaded, 'blob')} uploaded, ${r.existing} already there)`,
    fields([{label: 'Digest', key: 'digest', value: r.digest}], ctx),
    section('Layers', layers, ctx),
  ], ctx)
}

function lastSyncCell(r: Registry, ctx: OutputContext): Cell {
  const s = r.lastSync
  if (!s) return ctx.tty ? 'never' : '-'
  const problems = s.versions.filter(v => v.status === 'conflict' || v.status === 'invalid').length + s.errors.length
  const text = `${formatTime(s.finishedAt, ctx)}: +${s.versionsAdded}${problems ? `, ${plural(problems, 'problem')}` : ''}`
  return problems ? {text, style: 'yellow'} : text
}

export function renderRegistryList(list: readonly Registry[], ctx: OutputContext): string {
  if (list.length === 0) return ctx.tty ? 'no registries yet — add one with: margo registry add <name> <url>' : ''
  return table(['name', 'kind', 'url', 'interval', 'auth', 'last sync'], list.map(r => [
    r.name,
    r.kind,
    r.url + (r.ref ? `#${r.ref}` : ''),
    `${r.intervalSeconds}s`,
    r.credentialsKind ?? 'none',
    lastSyncCell(r, ctx),
  ]), ctx)
}

export function renderRegistry(r: Registry, ctx: OutputContext): string {
  return fields([
    {label: 'Name', key: 'name', value: r.name},
    {label: 'Kind', key: 'kind', value: r.kind},
    {label: 'URL', key: 'url', value: r.url},
    ...(r.ref ? [{label: 'Ref', key: 'ref', value: r.ref}] : []),
    ...(r.kind === 'oci' ? [{label: 'Repositories', key: 'repositories', value: r.repositories.join(',') || (ctx.tty ? 'all (registry catalog)' : '')}] : []),
    {label: 'Credentials', key: 'credentials', value: r.credentialsKind ?? 'none'},
    {label: 'Interval', key: 'intervalSeconds', value: `${r.intervalSeconds}s`},
    {label: 'Last sync', key: 'lastSyncAt', value: formatTime(r.lastSyncAt, ctx)},
  ], ctx)
}

const STATUS_STYLE = {added: 'green', unchanged: 'dim', conflict: 'red', invalid: 'red'} as const

/** Piped: one `status<TAB>appId<TAB>version<TAB>location<TAB>error` line per version, then `error<TAB>message` lines. */
export function renderSyncResult(s: SyncResult, ctx: OutputContext): string {
  const rows: Cell[][] = s.versions.map(v => [
    {text: v.status, style: STATUS_STYLE[v.status]}, v.appId ?? '-', v.version ?? '-', v.location, v.error ?? '',
  ])
  if (!ctx.tty) return [table(['status', 'app', 'version', 'location', 'problem'], rows, ctx), ...s.errors.map(e => `error\t${e}`)].filter(Boolean).join('\n')
  const summary = `synced ${s.registry}: ${plural(s.appsFound, 'app')}, ${plural(s.versionsAdded, 'version')} added` +
    (s.errors.length ? `, ${paint(plural(s.errors.length, 'error'), 'red', ctx)}` : '')
  return blocks([
    summary,
    rows.length ? table(['status', 'app', 'version', 'location', 'problem'], rows, ctx) : '',
    s.errors.map(e => `${paint('error', 'red', ctx)}: ${e}`).join('\n'),
  ], ctx)
}

export function renderAddResult(r: {registry: Registry, sync: SyncResult | null}, ctx: OutputContext): string {
  return blocks([
    ctx.tty ? `added registry ${r.registry.name}` : '',
    renderRegistry(r.registry, ctx),
    r.sync ? renderSyncResult(r.sync, ctx) : '',
  ], ctx)
}

export {syncFailed} from '../client/registries.ts'
