import type {PublishResult} from '../../client/operator-client.ts'
import type {App, AppSummary, ApplicationDescription} from '../../operator-contract/views.ts'
import type {PublishSource} from '../../client/publish.ts'
import {type Field, type OutputContext, blocks, fields, formatTime, scalar, section, table} from '../output.ts'

function latest(app: AppSummary) {
  return app.versions.find(v => v.version === app.latestVersion) ?? app.versions.at(-1)
}

function profileTypes(app: AppSummary): string {
  return [...new Set(latest(app)?.profiles.map(p => p.type) ?? [])].join(',')
}

export function renderAppList(apps: readonly AppSummary[], ctx: OutputContext): string {
  if (apps.length === 0) return ctx.tty ? 'no apps yet — publish one with: margo app publish <margo.yaml|package.tar.gz|dir>' : ''
  const rows = apps.map(a => [
    a.appId,
    a.name,
    a.latestVersion,
    a.versions.map(v => v.version).join(','),
    profileTypes(a),
    formatTime(latest(a)?.publishedAt, ctx),
  ])
  return table(['app id', 'name', 'latest', 'versions', 'profiles', 'published'], rows, ctx)
}

/** The parameters an operator can set, with their defaults and rules, from the description. */
export interface ParameterRow {
  name: string
  default: string
  type: string
  immutable: boolean
  label: string
}

export function parameterRows(description: ApplicationDescription): ParameterRow[] {
  const settings = new Map(
    (description.configuration?.sections ?? []).flatMap(s => s.settings ?? []).map(s => [s.parameter, s] as const),
  )
  const schemas = new Map((description.configuration?.schema ?? []).map(s => [s.name, s] as const))
  return Object.entries(description.parameters ?? {}).map(([name, p]) => {
    const setting = settings.get(name)
    const schema = setting ? schemas.get(setting.schema) : undefined
    return {
      name,
      default: scalar(p.value),
      type: schema?.dataType ?? '',
      immutable: setting?.immutable === true,
      label: setting?.name ?? '',
    }
  })
}

export function appFields(app: App, ctx: OutputContext): Field[] {
  const meta = app.description.metadata ?? {}
  const version = meta.version ?? app.latestVersion
  const published = app.versions.find(v => v.version === version)?.publishedAt
  const organization = (meta.catalog?.organization ?? []).map(o => o.name).filter(Boolean).join(', ')
  const tagline = meta.catalog?.application?.tagline
  const rows: (Field | undefined)[] = [
    {label: 'App ID', key: 'appId', value: app.appId},
    {label: 'Name', key: 'name', value: app.name},
    {label: 'Version', key: 'version', value: version === app.latestVersion ? `${version} (latest)` : version},
    {label: 'Versions', key: 'versions', value: app.versions.map(v => v.version).join(', ')},
    published ? {label: 'Published', key: 'publishedAt', value: formatTime(published, ctx)} : undefined,
    organization ? {label: 'Organization', key: 'organization', value: organization} : undefined,
    tagline ? {label: 'Tagline', key: 'tagline', value: tagline} : undefined,
    meta.description ? {label: 'Description', key: 'description', value: meta.description} : undefined,
  ]
  return rows.filter((f): f is Field => f !== undefined)
}

export function renderApp(app: App, ctx: OutputContext): string {
  const profiles = app.description.deploymentProfiles ?? []
  const params = parameterRows(app.description)
  if (!ctx.tty) {
    return [
      fields(appFields(app, ctx), ctx),
      ...profiles.map(p => `profile\t${p.id}\t${p.type}\t${(p.components ?? []).map(c => c.name).join(',')}`),
      ...params.map(p => `parameter\t${p.name}\t${p.default}\t${p.type}\t${p.immutable}`),
    ].join('\n')
  }
  const profileTable = profiles.length
    ? table(['profile', 'type', 'components'], profiles.map(p => [p.id, p.type, (p.components ?? []).map(c => c.name).join(', ')]), ctx)
    : ''
  const paramTable = params.length
    ? table(
        ['parameter', 'default', 'type', 'immutable', 'setting'],
        params.map(p => [p.name, p.default, p.type, p.immutable ? 'yes' : '', p.label]),
        ctx,
      )
    : ''
  const hint = `deploy with: margo deploy ${app.appId}@${app.description.metadata?.version ?? app.latestVersion} --device <clientId>${params[0] ? ` --set ${params[0].name}=…` : ''}`
  return blocks([fields(appFields(app, ctx), ctx), section('Profiles', profileTable, ctx), section('Parameters', paramTable, ctx), hint], ctx)
}

export function renderPublishResult(result: PublishResult & {source?: PublishSource}, ctx: OutputContext): string {
  const {app} = result
  const version = app.description?.metadata?.version ?? app.latestVersion
  if (!ctx.tty) return `${app.appId}\t${version}\t${result.created ? 'created' : 'unchanged'}`
  return result.created
    ? `published ${app.appId}@${version} — deploy with: margo deploy ${app.appId}@${version} --device <clientId>`
    : `${app.appId}@${version} is already published with the same content — nothing changed`
}
