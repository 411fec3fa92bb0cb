import {parse, stringify} from 'yaml'
import type {ApplicationDeployment, ParameterValue} from '../../margo/deployment.ts'
import type {DriverContext} from '../types.ts'
import {DriverError} from './errors.ts'

/** POSIX portable environment variable names (what compose interpolates as `${NAME}`). */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/

export const OTEL_VARIABLES = ['HTTP_OTEL_EXPORTER_OTLP_ENDPOINT', 'GRPC_OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_CERTIFICATE', 'OTEL_EXPORTER_OTLP_PROTOCOL'] as const

/** Lists become comma-separated, the usual shape for list-valued environment variables. */
export function envValue(value: ParameterValue): string {
  return Array.isArray(value) ? value.map(v => String(v)).join(',') : String(value)
}

/**
 * The variables for one compose component, in order: each parameter targeting it under its
 * pointer (a leading `ENV.` dropped), then the OpenTelemetry variables the device injects
 * (spec §6.2), which win over a parameter of the same name.
 */
export function composeVariables(deployment: ApplicationDeployment, componentName: string, otel?: DriverContext['otel']): Map<string, string> {
  const vars = new Map<string, string>()
  for (const [name, parameter] of Object.entries(deployment.spec.parameters)) {
    for (const target of parameter.targets) {
      if (!target.components.includes(componentName)) continue
      const variable = target.pointer.replace(/^ENV\./, '')
      if (!ENV_NAME_PATTERN.test(variable)) {
        throw new DriverError('COMPOSE_PARAMETER_INVALID', `parameter ${name}: pointer ${JSON.stringify(target.pointer)} is not an environment variable name (letters, digits and '_', not starting with a digit)`)
      }
      vars.set(variable, envValue(parameter.value))
    }
  }
  for (const [key, value] of otelVariables(otel)) vars.set(key, value)
  return vars
}

export function otelVariables(otel: DriverContext['otel']): Map<string, string> {
  const vars = new Map<string, string>()
  if (!otel) return vars
  vars.set('HTTP_OTEL_EXPORTER_OTLP_ENDPOINT', otel.httpEndpoint)
  if (otel.grpcEndpoint) vars.set('GRPC_OTEL_EXPORTER_OTLP_ENDPOINT', otel.grpcEndpoint)
  if (otel.certificate) vars.set('OTEL_EXPORTER_OTLP_CERTIFICATE', otel.certificate)
  if (otel.protocol) vars.set('OTEL_EXPORTER_OTLP_PROTOCOL', otel.protocol)
  return vars
}

const PLAIN_ENV_VALUE = /^[A-Za-z0-9_./:@%+,=-]*$/

/**
 * One `.env` line in Compose v2 syntax. Values with only harmless characters stay unquoted;
 * values without `'` or `\` are single-quoted, which Compose takes literally (no `$`
 * interpolation, `#` is not a comment, newlines allowed); everything else is double-quoted with
 * `\\`, `\"`, `\n`, `\r` escapes and `$$` for a literal `$`.
 */
export function envLine(name: string, value: string): string {
  if (!ENV_NAME_PATTERN.test(name)) throw new DriverError('COMPOSE_PARAMETER_INVALID', `${JSON.stringify(name)} is not an environment variable name`)
  if (PLAIN_ENV_VALUE.test(value)) return `${name}=${value}`
  if (!/['\\]/.test(value)) return `${name}='${value}'`
  const escaped = value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\$/g, '$$$$')
  return `${name}="${escaped}"`
}

/**
 * The env file passed with `--env-file`. A package's own `.env` comes first so its defaults
 * still apply; the deployment's variables follow and, being later, win.
 */
export function renderEnvFile(vars: ReadonlyMap<string, string>, packageEnv?: string): string {
  const lines: string[] = []
  if (packageEnv !== undefined && packageEnv.trim() !== '') lines.push(packageEnv.replace(/\n?$/, ''), '')
  lines.push('# Set by the Margo device agent from the ApplicationDeployment; later lines win.')
  for (const [name, value] of vars) lines.push(envLine(name, value))
  return `${lines.join('\n')}\n`
}

export interface ComposeFileInfo {
  services: string[]
  /** The legacy top-level `version`, which docker-compose 1.x requires to match across files. */
  version?: string
}

/** What the driver needs from a compose file: its service names and its legacy `version`. */
export function readComposeFile(composeYaml: string): ComposeFileInfo {
  let doc: unknown
  try {
    doc = parse(composeYaml, {maxAliasCount: 100})
  } catch (e) {
    throw new DriverError('PACKAGE_INVALID', `compose.yaml is not valid YAML: ${(e as Error).message.split('\n')[0]}`)
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new DriverError('PACKAGE_INVALID', 'compose.yaml must be a YAML mapping')
  const {services, version} = doc as Record<string, unknown>
  const info: ComposeFileInfo = {services: []}
  if (typeof version === 'string' || typeof version === 'number') info.version = String(version)
  if (services === undefined || services === null) return info
  if (typeof services !== 'object' || Array.isArray(services)) throw new DriverError('PACKAGE_INVALID', 'compose.yaml: services must be a mapping')
  info.services = Object.keys(services)
  return info
}

/**
 * An override file that puts the OpenTelemetry variables into every service's environment
 * (`.env` alone only feeds `${VAR}` interpolation). Compose interpolates override files too, so
 * `$` is written as `$$`. A certificate path is also bind-mounted read-only at the same path, so
 * the variable names a file that exists inside the container. Undefined when nothing is injected.
 */
export function renderOtelOverride(file: ComposeFileInfo, otel: DriverContext['otel']): string | undefined {
  const vars = otelVariables(otel)
  if (vars.size === 0 || file.services.length === 0) return undefined
  const environment: Record<string, string> = {}
  for (const [key, value] of vars) environment[key] = value.replace(/\$/g, '$$$$')
  const certificate = otel?.certificate
  const mount = certificate?.startsWith('/') ? [`${certificate.replace(/\$/g, '$$$$')}:${certificate.replace(/\$/g, '$$$$')}:ro`] : undefined
  const services = Object.create(null) as Record<string, unknown>
  for (const name of file.services) services[name] = {environment, ...(mount && {volumes: mount})}
  const doc: Record<string, unknown> = {}
  if (file.version !== undefined) doc.version = file.version
  doc.services = services
  return stringify(doc, {
    version: '1.1',
    defaultStringType: 'QUOTE_DOUBLE',
    defaultKeyType: null,
    doubleQuotedAsJSON: true,
    lineWidth: 0,
    aliasDuplicateObjects: false,
  })
}
