import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {buildDeploymentRequest, deploy, parseAppRef, parseSetValues, parseValuesDocument, readValuesFile} from '../../../src/client/deploy.ts'
import {UsageError} from '../../../src/util/errors.ts'
import {OperatorClient} from '../../../src/client/operator-client.ts'
import {APP_ID, DEVICE_ID, type FakeOperator, TOKEN, startFakeOperator} from './fake-operator.ts'

describe('parseAppRef', () => {
  test('id alone and id@version', () => {
    expect(parseAppRef('hello')).toEqual({appId: 'hello'})
    expect(parseAppRef('hello@1.0')).toEqual({appId: 'hello', version: '1.0'})
  })
  test('empty parts are usage errors', () => {
    expect(() => parseAppRef('@1.0')).toThrow(UsageError)
    expect(() => parseAppRef('hello@')).toThrow(/missing version after @/)
  })
})

describe('parseSetValues', () => {
  test('splits at the first = and keeps values as strings', () => {
    expect(parseSetValues(['port=08', 'url=http://x/?a=b', 'empty=', 'flag=true'])).toEqual({
      port: '08',
      url: 'http://x/?a=b',
      empty: '',
      flag: 'true',
    })
  })
  test('the last of repeated keys wins', () => {
    expect(parseSetValues(['a=1', 'a=2'])).toEqual({a: '2'})
  })
  test('pairs without a key or = are usage errors', () => {
    expect(() => parseSetValues(['novalue'])).toThrow(UsageError)
    expect(() => parseSetValues(['=x'])).toThrow(/is not key=value/)
  })
})

describe('values files', () => {
  test('a mapping keeps its YAML types; empty is no values', () => {
    expect(parseValuesDocument('greeting: Hi\nport: 8080\n', 'v.yaml')).toEqual({greeting: 'Hi', port: 8080})
    expect(parseValuesDocument('', 'v.yaml')).toEqual({})
  })
  test('lists, scalars, bad YAML and missing files are usage errors naming the file', () => {
    expect(() => parseValuesDocument('- a\n', 'v.yaml')).toThrow(/values file v\.yaml must be a YAML mapping/)
    expect(() => parseValuesDocument('just text', 'v.yaml')).toThrow(UsageError)
    expect(() => parseValuesDocument('a: [', 'v.yaml')).toThrow(/cannot parse values file v\.yaml/)
    expect(() => readValuesFile('/nonexistent/values.yaml')).toThrow(/cannot read values file \/nonexistent\/values\.yaml: ENOENT/)
  })
})

describe('buildDeploymentRequest', () => {
  test('minimal request leaves version, profile and values out', () => {
    expect(buildDeploymentRequest({app: 'hello', clientId: 'dev'})).toEqual({appId: 'hello', clientId: 'dev'})
  })
  test('--set wins over the values file', () => {
    expect(
      buildDeploymentRequest({app: 'hello@2', clientId: 'dev', profile: 'compose', set: ['greeting=Hi']}, {greeting: 'Hello', port: 80}),
    ).toEqual({appId: 'hello', version: '2', clientId: 'dev', profile: 'compose', values: {greeting: 'Hi', port: 80}})
  })
})

describe('deploy against the operator API', () => {
  let fake: FakeOperator
  let dir: string
  beforeAll(() => {
    fake = startFakeOperator()
    dir = mkdtempSync(join(tmpdir(), 'margo-deploy-'))
  })
  afterAll(() => {
    fake.stop()
    rmSync(dir, {recursive: true, force: true})
  })

  test('posts the built request', async () => {
    writeFileSync(join(dir, 'values.yaml'), 'greeting: From file\nextra: 1\n')
    const client = new OperatorClient({baseUrl: fake.operatorUrl, token: TOKEN, origin: {server: 't', token: 't'}})
    const d = await deploy(client, {app: `${APP_ID}@1.0`, clientId: DEVICE_ID, set: ['greeting=Hi'], valuesFile: join(dir, 'values.yaml')})
    expect(d.appVersion).toBe('1.0')
    const sent = JSON.parse(new TextDecoder().decode(fake.requests.at(-1)!.body))
    expect(sent).toEqual({appId: APP_ID, version: '1.0', clientId: DEVICE_ID, values: {greeting: 'Hi', extra: 1}})
  })
})
