import type {Connection} from './connection.ts'
import {OperationError} from '../util/errors.ts'
import {errorFromNetwork, errorFromResponse, type RequestContext} from './http-errors.ts'
import type {App, AppSummary, Deployment, DeploymentWithTimeline, Device, DeviceWithDeployments, FleetOverview, Health} from '../operator-contract/views.ts'
import type {CreateDeploymentRequest, UpdateDeploymentRequest} from '../operator-contract/requests.ts'

export interface OperatorClientOptions {
  /** Per request; a server that accepts the connection but never answers must not hang the CLI. */
  timeoutMs?: number
  userAgent?: string
  fetch?: typeof fetch
}

export type PackageMediaType = 'application/yaml' | 'application/gzip'

export interface DeploymentFilter {
  clientId?: string
  appId?: string
}

export interface PublishResult {
  app: App
  /** false when the same version with the same content was already published. */
  created: boolean
}

export interface RequestOptions extends Omit<RequestContext, 'method' | 'path'> {
  body?: unknown
  /** Raw body with its media type; otherwise `body` is sent as JSON. */
  raw?: {bytes: Uint8Array | string; contentType: string}
  query?: Record<string, string | undefined>
}

const DEFAULT_TIMEOUT_MS = 30_000

/** Typed client of the operator API (`/operator/v1`), shared by the commands and the TUI. */
export class OperatorClient {
  readonly connection: Connection
  private readonly timeoutMs: number
  private readonly userAgent: string | undefined
  private readonly fetchImpl: typeof fetch

  constructor(connection: Connection, options: OperatorClientOptions = {}) {
    this.connection = connection
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.userAgent = options.userAgent
    this.fetchImpl = options.fetch ?? fetch
  }

  health(): Promise<Health> {
    return this.json('GET', '/health')
  }

  /** The OpenAPI document of the operator API (served without authentication). */
  openapi(): Promise<Record<string, unknown>> {
    return this.json('GET', '/openapi.json')
  }

  /** `all`: tombstones (rejected, deleted, replaced devices) too. */
  async listDevices(options: {all?: boolean} = {}): Promise<Device[]> {
    return (await this.json<{devices: Device[]}>('GET', '/devices', options.all ? {query: {all: 'true'}} : {})).devices
  }

  getDevice(clientId: string): Promise<DeviceWithDeployments> {
    return this.json('GET', `/devices/${enc(clientId)}`, {clientId})
  }

  approveDevice(clientId: string): Promise<Device> {
    return this.json('POST', `/devices/${enc(clientId)}/approve`, {clientId})
  }

  revokeDevice(clientId: string): Promise<Device> {
    return this.json('POST', `/devices/${enc(clientId)}/revoke`, {clientId})
  }

  /** Admits a device certificate ahead of onboarding (allowlist, or pre-approval). */
  preregisterDevice(certificate: string): Promise<{fingerprint: string}> {
    return this.json('POST', '/devices/preregister', {body: {certificate}, inputHint: 'pass the device certificate as PEM'})
  }

  async listApps(): Promise<AppSummary[]> {
    return (await this.json<{apps: AppSummary[]}>('GET', '/apps')).apps
  }

  getApp(appId: string, version?: string): Promise<App> {
    return this.json('GET', `/apps/${enc(appId)}`, {appId, ...(version ? {version} : {}), query: {version}})
  }

  /** Publishes a `margo.yaml` or a package `.tar.gz`; `created` is false for an identical re-publish. */
  async publishApp(bytes: Uint8Array | string, contentType: PackageMediaType): Promise<PublishResult> {
    const {status, body} = await this.send('POST', '/apps', {
      raw: {bytes, contentType},
      inputHint: 'fix the ApplicationDescription, or publish it under a new metadata.version',
    })
    return {app: body as App, created: status === 201}
  }

  async listDeployments(filter: DeploymentFilter = {}): Promise<Deployment[]> {
    const res = await this.json<{deployments: Deployment[]}>('GET', '/deployments', {
      query: {clientId: filter.clientId, appId: filter.appId},
    })
    return res.deployments
  }

  createDeployment(request: CreateDeploymentRequest): Promise<Deployment> {
    return this.json('POST', '/deployments', {
      body: request,
      clientId: request.clientId,
      appId: request.appId,
      ...(request.version ? {version: request.version} : {}),
      inputHint: `check the values and profile against: margo app show ${request.appId}`,
    })
  }

  getDeployment(deploymentId: string): Promise<DeploymentWithTimeline> {
    return this.json('GET', `/deployments/${enc(deploymentId)}`, {deploymentId})
  }

  updateDeployment(deploymentId: string, patch: UpdateDeploymentRequest): Promise<Deployment> {
    return this.json('PATCH', `/deployments/${enc(deploymentId)}`, {
      body: patch,
      deploymentId,
      inputHint: 'check the values against the app: margo app show <appId>',
    })
  }

  /** Marks the deployment absent; the device then reports removing → removed. */
  deleteDeployment(deploymentId: string): Promise<Deployment> {
    return this.json('DELETE', `/deployments/${enc(deploymentId)}`, {deploymentId})
  }

  status(): Promise<FleetOverview> {
    return this.json('GET', '/status')
  }

  /** Any operator endpoint, typed by the caller: modules in src/client add their resources through this. */
  call<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return this.json(method, path, options)
  }

  private async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.send(method, path, options)).body as T
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<{status: number; body: unknown}> {
    const {body, raw, query, ...ids} = options
    const ctx: RequestContext = {method, path, ...ids}
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.connection.token}`,
      accept: 'application/json',
    }
    if (this.userAgent) headers['user-agent'] = this.userAgent
    let payload: string | Uint8Array | undefined
    if (raw) {
      headers['content-type'] = raw.contentType
      payload = raw.bytes
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json'
      payload = JSON.stringify(body)
    }

    const url = this.connection.baseUrl + path + queryString(query)
    let response: Response
    try {
      response = await this.fetchImpl(url, {
        method,
        headers,
        ...(payload !== undefined ? {body: payload} : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
        // Only ever adds a trust anchor; certificate verification stays on.
        ...(this.connection.ca ? {tls: {ca: this.connection.ca}} : {}),
      } as RequestInit)
    } catch (err) {
      throw errorFromNetwork(err, this.connection, this.timeoutMs)
    }

    let text: string
    try {
      text = await response.text()
    } catch (err) {
      throw errorFromNetwork(err, this.connection, this.timeoutMs)
    }
    let parsed: unknown
    if (text) {
      try {
        parsed = JSON.parse(text)
      } catch {
        if (response.ok) {
          throw new OperationError(
            `${method} ${url} answered ${response.status} with a body that is not JSON — check that the URL names a margo operator API`,
            {code: 'bad_response'},
          )
        }
      }
    }
    if (!response.ok) throw errorFromResponse(response.status, parsed, ctx, this.connection)
    return {status: response.status, body: parsed}
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment)
}

function queryString(query: Record<string, string | undefined> | undefined): string {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, v)
  const s = params.toString()
  return s ? `?${s}` : ''
}
