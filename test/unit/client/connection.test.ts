import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {dataDirFiles} from '../../../src/config/paths.ts'
import {type ConnectionOptions, normalizeServerUrl, resolveConnection} from '../../../src/client/connection.ts'
import {AuthError, UsageError} from '../../../src/util/errors.ts'

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
let root: string
let configPath: string

function dataDir(name: string, info: {operatorUrl: string} | null, token?: string, ca = true): string {
  const dir = join(root, name)
  const files = dataDirFiles(dir)
  mkdirSync(join(dir, 'tls'), {recursive: true})
  if (info) writeFileSync(files.serverInfo, JSON.stringify({...info, url: 'https://x', pid: 1, version: '0.1.0'}))
  if (token) writeFileSync(files.operatorToken, `${token}\n`)
  if (ca) writeFileSync(files.caCert, PEM)
  return dir
}

function emptyDir(): string {
  const dir = join(root, 'empty')
  mkdirSync(dir, {recursive: true})
  return dir
}

/** Never consults the real data dir or login file of whoever runs the tests. */
function resolve(options: ConnectionOptions) {
  return resolveConnection({defaultDataDir: emptyDir(), ...options})
}

function writeConfig(text: string) {
  writeFileSync(configPath, text)
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'margo-conn-'))
  configPath = join(root, 'config.yaml')
})
afterEach(() => rmSync(root, {recursive: true, force: true}))

describe('normalizeServerUrl', () => {
  test.each([
    ['fleet.example:8443', 'https://fleet.example:8443/operator/v1'],
    ['https://fleet.example:8443', 'https://fleet.example:8443/operator/v1'],
    ['https://fleet.example:8443/', 'https://fleet.example:8443/operator/v1'],
    ['https://fleet.example:8443/operator/v1/', 'https://fleet.example:8443/operator/v1'],
    ['http://127.0.0.1:9000/operator/v1', 'http://127.0.0.1:9000/operator/v1'],
    ['https://proxy.example/margo', 'https://proxy.example/margo/operator/v1'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeServerUrl(input)).toBe(expected)
  })

  test('rejects other schemes and garbage', () => {
    expect(() => normalizeServerUrl('ftp://x')).toThrow(UsageError)
    expect(() => normalizeServerUrl('https://')).toThrow(UsageError)
  })
})

describe('resolveConnection precedence', () => {
  test('on the server machine nothing is needed: server.json, token and CA of the default data dir', () => {
    const dir = dataDir('default', {operatorUrl: 'https://127.0.0.1:8443/operator/v1'}, 'local-token')
    const c = resolve({env: {}, configPath, defaultDataDir: dir})
    expect(c.baseUrl).toBe('https://127.0.0.1:8443/operator/v1')
    expect(c.token).toBe('local-token')
    expect(c.ca).toBe(PEM)
    expect(c.origin.server).toBe(dataDirFiles(dir).serverInfo)
  })

  test('data dir (env): server, token and CA come from it', () => {
    const dir = dataDir('srv', {operatorUrl: 'https://127.0.0.1:8443/operator/v1'}, 'local-token')
    const c = resolve({env: {MARGO_DATA_DIR: dir}, configPath})
    expect(c.baseUrl).toBe('https://127.0.0.1:8443/operator/v1')
    expect(c.token).toBe('local-token')
    expect(c.ca).toBe(PEM)
    expect(c.origin.server).toBe(dataDirFiles(dir).serverInfo)
    expect(c.origin.token).toBe(dataDirFiles(dir).operatorToken)
  })

  test('flags beat environment beat config beat data dir', () => {
    const dir = dataDir('srv', {operatorUrl: 'https://127.0.0.1:8443/operator/v1'}, 'dir-token')
    writeConfig('server: https://config.example\ntoken: config-token\n')
    const env = {MARGO_SERVER: 'https://env.example', MARGO_TOKEN: 'env-token'}

    const flag = resolve({server: 'https://flag.example', token: 'flag-token', env, configPath})
    expect([flag.baseUrl, flag.token]).toEqual(['https://flag.example/operator/v1', 'flag-token'])
    expect(flag.origin).toMatchObject({server: '--server', token: '--token'})

    const fromEnv = resolve({env, configPath})
    expect([fromEnv.baseUrl, fromEnv.token]).toEqual(['https://env.example/operator/v1', 'env-token'])
    expect(fromEnv.origin).toMatchObject({server: 'MARGO_SERVER', token: 'MARGO_TOKEN'})

    const fromConfig = resolve({env: {}, configPath})
    expect([fromConfig.baseUrl, fromConfig.token]).toEqual(['https://config.example/operator/v1', 'config-token'])
    expect(fromConfig.origin.server).toBe(configPath)

    rmSync(configPath)
    const fromDir = resolve({env: {MARGO_DATA_DIR: dir}, configPath})
    expect([fromDir.baseUrl, fromDir.token]).toEqual(['https://127.0.0.1:8443/operator/v1', 'dir-token'])
  })

  test('an explicit --data-dir outranks MARGO_SERVER and the login file', () => {
    const dir = dataDir('srv', {operatorUrl: 'https://127.0.0.1:8443/operator/v1'}, 'dir-token')
    writeConfig('server: https://config.example\ntoken: config-token\n')
    const c = resolve({dataDir: dir, env: {MARGO_SERVER: 'https://env.example'}, configPath})
    expect(c.baseUrl).toBe('https://127.0.0.1:8443/operator/v1')
    expect(c.token).toBe('dir-token')
  })

  test('MARGO_DATA_DIR outranks the login file', () => {
    const dir = dataDir('srv', {operatorUrl: 'https://127.0.0.1:8443/operator/v1'}, 'dir-token')
    writeConfig('server: https://config.example\ntoken: config-token\n')
    const c = resolve({env: {MARGO_DATA_DIR: dir}, configPath})
    expect(c.token).toBe('dir-token')
  })

  test('a stored token is not sent to a different server', () => {
    writeConfig('server: https://config.example\ntoken: config-token\n')
    expect(() => resolve({server: 'https://other.example', env: {}, configPath})).toThrow(AuthError)
    // Same server under another spelling: the stored token applies.
    const same = resolve({server: 'config.example', env: {}, configPath})
    expect(same.token).toBe('config-token')
  })

  test('--token with the server from the login file overrides the stored token', () => {
    writeConfig('server: https://config.example\ntoken: config-token\n')
    expect(resolve({token: 'flag-token', env: {}, configPath}).token).toBe('flag-token')
  })

  test('--server plus explicit --data-dir borrows that dir\'s token even under another host name', () => {
    const dir = dataDir('srv', {operatorUrl: 'https://127.0.0.1:8443/operator/v1'}, 'dir-token')
    const c = resolve({server: 'https://localhost:8443', dataDir: dir, env: {}, configPath})
    expect(c.baseUrl).toBe('https://localhost:8443/operator/v1')
    expect(c.token).toBe('dir-token')
    expect(c.ca).toBe(PEM)
  })

  test('CA file: flag > env > config; relative caFile in config is relative to the config file', () => {
    writeFileSync(join(root, 'flag.pem'), PEM.replace('MIIB', 'FLAG'))
    writeFileSync(join(root, 'env.pem'), PEM.replace('MIIB', 'ENV'))
    writeFileSync(join(root, 'cfg.pem'), PEM.replace('MIIB', 'CFG'))
    writeConfig('server: https://config.example\ntoken: t\ncaFile: cfg.pem\n')
    expect(resolve({caFile: join(root, 'flag.pem'), env: {MARGO_CA_FILE: join(root, 'env.pem')}, configPath}).ca).toContain('FLAG')
    expect(resolve({env: {MARGO_CA_FILE: join(root, 'env.pem')}, configPath}).ca).toContain('ENV')
    expect(resolve({env: {}, configPath}).ca).toContain('CFG')
  })

  test('no CA configured means the system trust store (no ca field)', () => {
    writeConfig('server: https://config.example\ntoken: t\n')
    expect(resolve({env: {}, configPath}).ca).toBeUndefined()
  })
})

describe('resolveConnection failures', () => {
  test('nothing configured anywhere: names every place it looked and how to point at a server', () => {
    const dir = emptyDir()
    let err: Error | undefined
    try {
      resolveConnection({defaultDataDir: dir, env: {}, configPath})
    } catch (e) {
      err = e as Error
    }
    expect(err).toBeInstanceOf(UsageError)
    const message = err!.message
    expect(message).toStartWith('no server configured')
    expect(message).toContain(dataDirFiles(dir).serverInfo)
    expect(message).toContain(configPath)
    expect(message).toContain('MARGO_SERVER')
    expect(message).toContain('--data-dir')
    expect(message).toContain('MARGO_DATA_DIR')
    expect(message).toContain('--server')
    expect(message).toContain('margo login')
    expect(message).not.toContain('\n')
  })

  test('MARGO_DATA_DIR without server.json and nothing else → names that dir', () => {
    const empty = emptyDir()
    expect(() => resolve({env: {MARGO_DATA_DIR: empty}, configPath})).toThrow(`no running server found in ${empty}`)
  })

  test('a data dir with an unrelated server does not lend its token to another server', () => {
    const dir = dataDir('srv', {operatorUrl: 'https://127.0.0.1:8443/operator/v1'}, 'dir-token')
    expect(() => resolve({server: 'https://remote.example', env: {}, configPath, defaultDataDir: dir})).toThrow(AuthError)
    expect(resolve({server: 'https://127.0.0.1:8443', env: {}, configPath, defaultDataDir: dir}).token).toBe('dir-token')
  })

  test('--data-dir without server.json says to start margo serve there', () => {
    const dir = dataDir('stopped', null, 'tok')
    expect(() => resolve({dataDir: dir, env: {}, configPath})).toThrow(`margo serve --data-dir ${dir}`)
  })

  test('server without token → AuthError suggesting --token, MARGO_TOKEN or margo login', () => {
    expect(() => resolve({server: 'https://x.example', env: {}, configPath})).toThrow(/no operator token for https:\/\/x\.example\/operator\/v1 — pass --token, set MARGO_TOKEN/)
  })

  test('unreadable or non-PEM CA file → UsageError naming the file and its origin', () => {
    expect(() => resolve({server: 'x', token: 't', caFile: join(root, 'missing.pem'), env: {}, configPath})).toThrow(/cannot read CA file .*missing\.pem \(from --ca-file\): ENOENT/)
    writeFileSync(join(root, 'junk.pem'), 'hello')
    expect(() => resolve({server: 'x', token: 't', env: {MARGO_CA_FILE: join(root, 'junk.pem')}, configPath})).toThrow(/no PEM certificate/)
  })

  test('malformed login file → UsageError pointing at margo login', () => {
    writeConfig('server: [1, 2]\n')
    expect(() => resolve({env: {}, configPath})).toThrow(/server must be a string/)
    writeConfig('- a\n- b\n')
    expect(() => resolve({env: {}, configPath})).toThrow(/must be a YAML mapping/)
  })

  test.skipIf(process.getuid?.() === 0)('unreadable token file → AuthError that says what to do', () => {
    const dir = dataDir('locked', {operatorUrl: 'https://127.0.0.1:8443/operator/v1'}, 'secret')
    chmodSync(dataDirFiles(dir).operatorToken, 0o000)
    expect(() => resolve({dataDir: dir, env: {}, configPath})).toThrow(/cannot read operator token .*EACCES — run as the user that runs margo serve, or pass --token/)
  })
})
