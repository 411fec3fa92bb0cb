import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {KeyObject} from 'node:crypto'
import {createServerApp} from '../../src/server/app.ts'
import {DEFAULT_DEVICE_API_CONFIG, type DeviceApiConfig, type DeviceApiContext} from '../../src/server/device-api/context.ts'
import {EventBus} from '../../src/server/events.ts'
import {testDatabase} from './test-database.ts'
import {silentLogger, type Logger} from '../../src/util/log.ts'
import {createServices} from '../../src/server/services.ts'
import {createCertificateAuthority, createSelfSignedDeviceCertificate, certificateToBase64Der, parseCertificate} from '../../src/pki/index.ts'
import {generateKeyPair, signRequest, type KeyType, type SignatureAlgorithm} from '../../src/signing/index.ts'

export const ORIGIN = 'https://wfm.test'
export const TOKEN = 'test-operator-token-0123456789abcdef0123456789'

let caPem: string | undefined
async function testCa() {
  caPem ??= (await createCertificateAuthority({commonName: 'margo test CA'})).certPem
  return caPem
}

/** An in-process server (a real SQLite file or PostgreSQL schema, real routes) driven through `app.handle`. */
export async function createHarness(config: Partial<DeviceApiConfig> = {}, options: {log?: Logger, dir?: string, sqlite?: boolean, schema?: string} = {}) {
  const log = options.log ?? silentLogger
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'margo-server-'))
  const database = testDatabase(dir, {sqlite: options.sqlite, schema: options.schema})
  const store = database.open()
  const events = new EventBus()
  let clock: Date | null = null
  const now = () => clock ?? new Date()
  const device: DeviceApiContext = {
    store, events, log,
    // Tests of other things onboard devices and use them at once: they run under --enrollment auto.
    // Tests of enrollment name the policy they test.
    config: {...DEFAULT_DEVICE_API_CONFIG, enrollment: 'auto', ...config},
    caCertificatePem: await testCa(),
    now,
    keyCache: new Map(),
    lastSeen: new Map(),
  }
  const operator = {
    store, events, log, token: TOKEN, version: 'test', enrollment: device.config.enrollment,
    deviceApiUrl: ORIGIN + device.config.basePath, maxBodyBytes: 64 * 1024 * 1024, startedAt: new Date(), now,
  }
  // Shared with the test, so a rollout controller it starts renders with the same secrets.
  const services = createServices(operator)
  const app = createServerApp(device, operator, services)
  const base = ORIGIN + device.config.basePath
  return {
    app, store, events, device, base, dir, services, database,
    setClock(d: Date | null) { clock = d },
    fetch: (path: string, init: RequestInit = {}) => app.handle(new Request(base + path, init)),
    operator(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const init: RequestInit = {method, headers: {authorization: `Bearer ${TOKEN}`, ...headers}}
      if (body !== undefined) {
        init.body = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body)
        if (!(typeof body === 'string' || body instanceof Uint8Array)) (init.headers as Record<string, string>)['content-type'] = 'application/json'
      }
      return app.handle(new Request(`${ORIGIN}/operator/v1${path}`, init))
    },
    close() {
      store.close()
      database.drop()
      rmSync(dir, {recursive: true, force: true})
    },
  }
}
export type Harness = Awaited<ReturnType<typeof createHarness>>

export interface SendOptions {
  body?: unknown
  headers?: Record<string, string>
  /** Leave the request unsigned. */
  unsigned?: boolean
  /** Sign without Content-Digest (and without covering it). */
  omitDigest?: boolean
  /** Change the signed request before it is sent. */
  tamper?: (req: {headers: Record<string, string>, body: string}) => void
  created?: number
  alg?: SignatureAlgorithm
  /** Sign with another key than the device's own. */
  key?: KeyObject
}

/** Where a test device sends its requests: the in-process app, or a real server over HTTPS. */
export interface Transport {
  base: string
  handle(request: Request): Promise<Response>
}

export const inProcess = (h: Harness): Transport => ({base: h.base, handle: r => h.app.handle(r)})

/** A device with its own key and self-signed certificate. */
export class TestDevice {
  clientId = ''
  private constructor(readonly t: Transport, readonly privateKey: KeyObject, readonly certPem: string, readonly keyType: KeyType) {}

  static async create(target: Harness | Transport, keyType: KeyType = 'p256') {
    const t = 'app' in target ? inProcess(target) : target
    const keys = generateKeyPair(keyType)
    const certPem = await createSelfSignedDeviceCertificate({...keys, subject: `CN=test-device-${keyType}-${crypto.randomUUID().slice(0, 8)}`})
    return new TestDevice(t, keys.privateKey, certPem, keyType)
  }

  /** The same device (key, certificate, clientId) talking to another server, e.g. one restored from a backup. */
  to(target: Harness | Transport): TestDevice {
    const moved = new TestDevice('app' in target ? inProcess(target) : target, this.privateKey, this.certPem, this.keyType)
    moved.clientId = this.clientId
    return moved
  }

  get fingerprint() {
    const c = parseCertificate(this.certPem)
    if (!c.ok) throw new Error(c.reason)
    return c.fingerprint
  }

  onboardingBody(certificate = certificateToBase64Der(this.certPem)) {
    return {apiVersion: 'onboarding.margo.org/v1alpha1', kind: 'OnboardingRequest', certificate}
  }

  async onboard(): Promise<string> {
    const res = await this.send('POST', '/api/v1/onboarding', {body: this.onboardingBody()})
    if (res.status !== 201) throw new Error(`onboarding failed: ${res.status} ${await res.text()}`)
    this.clientId = ((await res.json()) as {clientId: string}).clientId
    return this.clientId
  }

  async send(method: string, path: string, opts: SendOptions = {}): Promise<Response> {
    const url = (path.startsWith('/api/') ? this.t.base : '') + path.replace('{clientId}', this.clientId)
    const body = opts.body === undefined ? '' : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body)
    let headers: Record<string, string> = {...(body ? {'content-type': 'application/json'} : {}), ...opts.headers}
    if (!opts.unsigned) {
      const signed = await signRequest({method, url, headers, body}, {
        privateKey: opts.key ?? this.privateKey, keyId: this.clientId || 'onboarding', alg: opts.alg, created: opts.created,
        components: opts.omitDigest ? ['@method', '@target-uri'] : undefined,
      })
      if (opts.omitDigest) delete signed['content-digest']
      headers = {...headers, ...signed}
    }
    const req = {headers, body}
    opts.tamper?.(req)
    return this.t.handle(new Request(url, {method, headers: req.headers, body: req.body === '' ? undefined : req.body}))
  }
}

export function capabilitiesBody(id = 'device-1', roles = ['Standalone Device']) {
  return {
    apiVersion: 'device.margo.org/v1alpha1',
    kind: 'DeviceCapabilitiesManifest',
    properties: {
      id, vendor: 'Northstar Industrial Devices', modelNumber: '332ANZE1-N1', serialNumber: 'PF45343-AA', roles,
      resources: {cpu: {cores: 4, architecture: 'amd64'}, memory: '8Gi', storage: '64Gi', peripherals: [], interfaces: [{type: 'ethernet'}]},
    },
  }
}

export function statusBody(deploymentId: string, state = 'installed', components = [{name: 'hello-world-compose', state}]) {
  return {apiVersion: 'deployment.margo.org/v1alpha1', kind: 'DeploymentStatusManifest', deploymentId, status: {state}, components}
}

/** The reference material beside the project: the spec and the Margo conformance fixtures. */
export {SHARED} from '../shared.ts'

export const HELLO_WORLD = join(import.meta.dir, '../fixtures/apps/hello-world/margo.yaml')
