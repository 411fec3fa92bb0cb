import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {readFileSync} from 'node:fs'
import {startRolloutController} from '../../src/server/rollouts/controller.ts'
import {createLogger} from '../../src/util/log.ts'
import {createHarness, capabilitiesBody, HELLO_WORLD, TestDevice, type Harness} from './harness.ts'

const APP = 'com-northstartida-hello-world'
const FIRST = 'Pw-first-7f3a9c'
const SECOND = 'Pw-second-b81e2d'

let h: Harness
let stop: () => void
let logLines: string[]
/** Every operator response body the test saw, to search for the secret at the end. */
let seen: string[]

beforeEach(async () => {
  logLines = []
  seen = []
  h = await createHarness({}, {log: createLogger({level: 'debug', format: 'json', write: line => logLines.push(line)})})
  stop = startRolloutController({store: h.store, events: h.events, log: createLogger({level: 'debug', format: 'json', write: line => logLines.push(line)}), now: () => new Date()}, h.services.rollouts)
  expect((await h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'})).status).toBe(201)
})
afterEach(() => { stop(); h.close() })

async function call<T>(method: string, path: string, body?: unknown, status?: number): Promise<{status: number, body: T, text: string}> {
  const res = await h.operator(method, path, body)
  const text = await res.text()
  seen.push(`${method} ${path} → ${text}`)
  if (status !== undefined && res.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${res.status}: ${text}`)
  const isJson = (res.headers.get('content-type') ?? '').startsWith('application/json')
  return {status: res.status, body: (isJson ? JSON.parse(text) : text) as T, text}
}

async function device() {
  const d = await TestDevice.create(h)
  await d.onboard()
  expect((await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody('dev')})).status).toBe(201)
  return d
}

/** The device's manifest entries and the YAML of each, as the device fetches them. */
async function deviceYamls(d: TestDevice) {
  const res = await d.send('GET', '/api/v1/clients/{clientId}/deployments')
  const body = JSON.parse(await res.text()) as {deployments: {deploymentId: string, digest: string, url: string}[]}
  const out: {deploymentId: string, digest: string, yaml: string}[] = []
  for (const ref of body.deployments) out.push({...ref, yaml: await (await d.send('GET', ref.url)).text()})
  return out
}

/** Every place an operator could read: none may hold a secret value. */
async function readEverything(d: TestDevice, rollout: string) {
  const deployments = await call<{deployments: {deploymentId: string}[]}>('GET', '/deployments', undefined, 200)
  for (const x of deployments.body.deployments) {
    await call('GET', `/deployments/${x.deploymentId}`, undefined, 200)
    await call('GET', `/status/${x.deploymentId}`, undefined, 200)
  }
  for (const path of ['/devices', `/devices/${d.clientId}`, '/rollouts', `/rollouts/${rollout}`, `/rollouts/${rollout}/revisions`, '/status', `/status/${d.clientId}`, `/status/${APP}`, '/secrets', '/audit', '/audit/export']) {
    await call('GET', path, undefined, 200)
  }
}

const noSecretIn = (texts: string[], ...values: string[]) => {
  for (const t of texts) for (const v of values) expect(t.includes(v)).toBe(false)
}

describe('secrets by reference', () => {
  test('the value reaches only the device YAML; dry runs, views, history, audit and logs show <secret:NAME>; rotation re-renders in place', async () => {
    const created = await call<{name: string, created: boolean}>('PUT', '/secrets/db-pass', {value: FIRST}, 201)
    expect(created.body).toMatchObject({name: 'db-pass', created: true})
    const d = await device()

    const dry = await call<{targets: {yaml: string}[]}>('POST', '/rollouts', {appId: APP, name: 'hello', devices: [d.clientId], values: {greeting: 'Hi ${secret:db-pass}!'}, dryRun: true}, 200)
    expect(dry.body.targets[0]!.yaml).toContain('Hi <secret:db-pass>!')

    await call('POST', '/rollouts', {appId: APP, name: 'hello', devices: [d.clientId], values: {greeting: 'Hi ${secret:db-pass}!'}}, 201)
    const [first] = await deviceYamls(d)
    expect(first!.yaml).toContain(`Hi ${FIRST}!`)

    const shown = await call<{values: Record<string, unknown>}>('GET', `/deployments/${first!.deploymentId}`, undefined, 200)
    expect(shown.body.values.greeting).toBe('Hi <secret:db-pass>!')
    const history = await call<{history: {values: Record<string, unknown>}[]}>('GET', '/rollouts/hello/revisions', undefined, 200)
    expect(history.body.history[0]!.values.greeting).toBe('Hi <secret:db-pass>!')
    const listed = await call<{secrets: {name: string, usedBy: {rollouts: string[]}}[]}>('GET', '/secrets', undefined, 200)
    expect(listed.body.secrets).toEqual([expect.objectContaining({name: 'db-pass', usedBy: {rollouts: ['hello'], deployments: [first!.deploymentId]}})])

    // Rotation: same deployment, new digest, new value on the device, in one new manifest.
    const rotated = await call<{created: boolean, rerendered: {deploymentId: string, digest: string}[]}>('PUT', '/secrets/db-pass', {value: SECOND}, 200)
    expect(rotated.body.created).toBe(false)
    expect(rotated.body.rerendered.map(r => r.deploymentId)).toEqual([first!.deploymentId])
    const [second] = await deviceYamls(d)
    expect(second!.deploymentId).toBe(first!.deploymentId)
    expect(second!.digest).not.toBe(first!.digest)
    expect(second!.digest).toBe(rotated.body.rerendered[0]!.digest)
    expect(second!.yaml).toContain(`Hi ${SECOND}!`)
    expect(second!.yaml).not.toContain(FIRST)

    // A re-evaluation renders the same bytes: nothing to apply after a rotation.
    const again = await call<{targets: {action: string}[]}>('POST', '/rollouts', {appId: APP, name: 'hello', devices: [d.clientId], values: {greeting: 'Hi ${secret:db-pass}!'}}, 200)
    expect(again.body.targets[0]!.action).toBe('unchanged')

    // A diff of a change next to a secret shows the reference on both sides.
    const diff = await call<{targets: {diff: string, yaml: string}[]}>('PATCH', '/rollouts/hello', {values: {greeting: 'Bye ${secret:db-pass}'}, dryRun: true}, 200)
    expect(diff.body.targets[0]!.diff).toContain('-      value: Hi <secret:db-pass>!')
    expect(diff.body.targets[0]!.diff).toContain('+      value: Bye <secret:db-pass>')

    // A change keeps the reference and renders the current value.
    await call('PATCH', '/rollouts/hello', {values: {greeting: 'Bye ${secret:db-pass}'}}, 200)
    const [third] = await deviceYamls(d)
    expect(third!.yaml).toContain(`Bye ${SECOND}`)

    await readEverything(d, 'hello')
    noSecretIn(seen, FIRST, SECOND)
    noSecretIn(logLines, FIRST, SECOND)
    expect(logLines.length).toBeGreaterThan(0)
    const audit = await call<{entries: {action: string, summary: Record<string, unknown>}[]}>('GET', '/audit', undefined, 200)
    const deploy = audit.body.entries.find(e => e.action === 'rollout.created')!
    expect(JSON.stringify(deploy.summary)).toContain('with <secret:db-pass>')
    // Every YAML an operator was shown is free of it too; only the device's own holds it.
    for (const y of [dry.body.targets[0]!.yaml, diff.body.targets[0]!.yaml]) noSecretIn([y], FIRST, SECOND)
    // At rest the value is sealed.
    const raw = h.database.atRest()
    expect(raw.includes(Buffer.from(SECOND))).toBe(false)
  })

  test('a reference to a missing secret is refused naming the parameter; a value that breaks a rule is reported masked', async () => {
    const d = await device()
    const missing = await call<{error: {code: string, details: {path: string, message: string}[]}}>('POST', '/rollouts', {appId: APP, devices: [d.clientId], values: {greeting: '${secret:nope}'}}, 422)
    expect(missing.body.error.details).toEqual([expect.objectContaining({path: 'parameters.greeting', message: expect.stringContaining('refers to secret "nope", which does not exist')})])

    const long = 'L'.repeat(60)
    await call('PUT', '/secrets/long', {value: long}, 201)
    const tooLong = await call<{error: {details: {message: string}[]}}>('POST', '/rollouts', {appId: APP, devices: [d.clientId], values: {greeting: '${secret:long}'}}, 422)
    expect(tooLong.text).not.toContain(long)
    expect(tooLong.body.error.details.length).toBeGreaterThan(0)

    // A rotation to a value the deployment's rules refuse is refused as a whole.
    await call('PUT', '/secrets/short', {value: 'fits'}, 201)
    await call('POST', '/deployments', {appId: APP, clientId: d.clientId, values: {greeting: '${secret:short}'}}, 201)
    const refused = await call<{error: {code: string}}>('PUT', '/secrets/short', {value: long}, 422)
    expect(refused.text).not.toContain(long)
    const [yaml] = await deviceYamls(d)
    expect(yaml!.yaml).toContain('fits')
  })

  test('deleting a secret in use is refused naming the rollouts; an unused one goes', async () => {
    const d = await device()
    await call('PUT', '/secrets/api-key', {value: FIRST}, 201)
    await call('POST', '/rollouts', {appId: APP, name: 'hello', devices: [d.clientId], values: {greeting: '${secret:api-key}'}}, 201)
    const refused = await call<{error: {code: string, message: string}}>('DELETE', '/secrets/api-key', undefined, 409)
    expect(refused.body.error.code).toBe('secret_in_use')
    expect(refused.body.error.message).toContain('hello')
    await call('DELETE', '/rollouts/hello', undefined, 200)
    await call('DELETE', '/secrets/api-key', undefined, 200)
    await call('DELETE', '/secrets/api-key', undefined, 404)
    noSecretIn(seen, FIRST)
  })
})
