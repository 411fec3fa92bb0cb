import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse} from 'yaml'
import {resolveConnection} from '../../../src/client/connection.ts'
import {AuthError} from '../../../src/util/errors.ts'
import {login} from '../../../src/client/login.ts'
import {type FakeOperator, TOKEN, startFakeOperator} from './fake-operator.ts'

let dir: string
let fake: FakeOperator
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'margo-login-'))
  fake = startFakeOperator()
})
afterAll(() => {
  fake.stop()
  rmSync(dir, {recursive: true, force: true})
})

describe('login', () => {
  test('verifies, then stores server and token with mode 0600 for resolveConnection', async () => {
    const configPath = join(dir, 'margo', 'config.yaml')
    const r = await login({server: fake.url, token: TOKEN, configPath})
    expect(r).toMatchObject({server: fake.operatorUrl, serverVersion: '0.1.0', verified: true, configPath})
    expect(statSync(configPath).mode & 0o777).toBe(0o600)
    expect(parse(readFileSync(configPath, 'utf8'))).toEqual({server: fake.operatorUrl, token: TOKEN})

    const c = resolveConnection({env: {}, configPath, defaultDataDir: join(dir, 'no-data')})
    expect(c).toMatchObject({baseUrl: fake.operatorUrl, token: TOKEN})
  })

  test('a rejected token is not saved', async () => {
    const configPath = join(dir, 'bad', 'config.yaml')
    await expect(login({server: fake.url, token: 'wrong', configPath})).rejects.toBeInstanceOf(AuthError)
    expect(() => statSync(configPath)).toThrow()
  })

  test('offline login saves without contacting the server', async () => {
    const configPath = join(dir, 'offline', 'config.yaml')
    const before = fake.requests.length
    const r = await login({server: 'fleet.example:8443', token: 't', configPath, verify: false})
    expect(r.verified).toBe(false)
    expect(fake.requests.length).toBe(before)
    expect(parse(readFileSync(configPath, 'utf8')).server).toBe('https://fleet.example:8443/operator/v1')
  })
})
