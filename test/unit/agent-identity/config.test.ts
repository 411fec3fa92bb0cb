import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parse as parseYaml} from 'yaml'
import {
  ConfigError, loadAgentConfig, parseCaFingerprint, parseDurationMs, redact, renderConfig, suggestKey,
  type LoadAgentConfigOptions,
} from '../../../src/agent/config/index.ts'
import {isDailyWindow} from '../../../src/agent/schedule/windows.ts'
import {tempDir} from './helpers.ts'

let dir: ReturnType<typeof tempDir>
let file: string

beforeEach(() => {
  dir = tempDir()
  file = join(dir.path, 'agent.yaml')
})
afterEach(() => dir.cleanup())

function load(partial: Partial<LoadAgentConfigOptions> = {}) {
  return loadAgentConfig({
    flags: {},
    env: {},
    defaults: {stateDir: join(dir.path, 'state'), configPath: join(dir.path, 'missing-default.yaml')},
    ...partial,
  })
}

function expectConfigError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error('expected a ConfigError')
}

describe('agent config precedence: flag > env > file > default', () => {
  test('each key comes from the highest source that sets it', () => {
    writeFileSync(file, [
      'server: https://file.example/v1alpha2/margo',
      'pollingIntervalRate: PT10M',
      'logLevel: warn',
      'keyType: p384',
    ].join('\n'))
    const {config, sources} = load({
      flags: {server: 'https://flag.example/', configPath: file},
      env: {MARGO_SERVER: 'https://env.example', MARGO_POLL_INTERVAL: '90s', MARGO_LOG_LEVEL: ''},
    })
    expect(config.server).toBe('https://flag.example')
    expect(sources.server).toBe('flag')
    expect(config.pollingIntervalRate).toBe(90_000)
    expect(sources.pollingIntervalRate).toBe('env')
    // An empty environment variable counts as unset, so the file wins.
    expect(config.logLevel).toBe('warn')
    expect(sources.logLevel).toBe('file')
    expect(config.keyType).toBe('p384')
    expect(config.pollingIntervalPeriod).toEqual(['00:00-24:00'])
    expect(sources.pollingIntervalPeriod).toBe('default')
    expect(sources.configPath).toBe('flag')
  })

  test('defaults: P-256, 300 s, whole day, no downtime, workloads under the state dir', () => {
    const {config, sources} = load({env: {MARGO_SERVER: 'wfm.example:8443/v1alpha2/margo/'}})
    expect(config.server).toBe('https://wfm.example:8443/v1alpha2/margo')
    expect(config.keyType).toBe('p256')
    expect(config.pollingIntervalRate).toBe(300_000)
    expect(config.pollingIntervalPeriod).toEqual(['00:00-24:00'])
    expect(config.downtimeWindows).toEqual([])
    expect(config.insecureTofu).toBe(false)
    expect(config.workloadDir).toBe(join(dir.path, 'state', 'workloads'))
    expect(config.logLevel).toBe('info')
    expect(config.capabilities).toEqual({})
    expect(sources.stateDir).toBe('default')
  })

  test('MARGO_AGENT_CONFIG names the file; relative paths in it are relative to the file', () => {
    writeFileSync(file, 'server: https://wfm.example\ncaFile: certs/ca.pem\nstateDir: ./state\n')
    const {config, sources} = load({env: {MARGO_AGENT_CONFIG: file}})
    expect(config.caFile).toBe(join(dir.path, 'certs', 'ca.pem'))
    expect(config.stateDir).toBe(join(dir.path, 'state'))
    expect(config.workloadDir).toBe(join(dir.path, 'state', 'workloads'))
    expect(sources.configPath).toBe('env')
    expect(sources.caFile).toBe('file')
  })

  test('a missing default config file is fine; a missing named one is an error', () => {
    expect(load({flags: {server: 'https://wfm.example'}}).config.server).toBe('https://wfm.example')
    const err = expectConfigError(() => load({flags: {server: 'https://wfm.example', configPath: join(dir.path, 'nope.yaml')}}))
    expect(err.code).toBe('unreadable_file')
    expect(err.message).toContain('nope.yaml')
    expect(err.message).toContain('--config')
  })

  test('WFM-52/CL-34: the user configures polling rate, polling period and downtime windows (with capabilities and otel), validated and kept', () => {
    writeFileSync(file, `
server: https://wfm.example
pollingIntervalPeriod: ['06:00-12:00', '22:00-02:00']
downtimeWindows: [{start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z'}]
timezone: Europe/Berlin
capabilities:
  id: line-3-press
  serialNumber: 12345
  roles: [standalone device]
  resources:
    cpu: {cores: 2, architecture: x86_64}
    memory: 2 Gi
    storage: 40Gi
    peripherals: [{type: gpu, manufacturer: NVIDIA}]
    interfaces: [ethernet, {type: canbus}]
otel: {httpEndpoint: 'http://127.0.0.1:4318', protocol: http/protobuf}
`)
    const {config} = load({flags: {configPath: file}})
    expect(config.pollingIntervalPeriod).toEqual(['06:00-12:00', '22:00-02:00'])
    expect(config.downtimeWindows).toHaveLength(1)
    expect(config.timezone).toBe('Europe/Berlin')
    expect(config.capabilities).toEqual({
      id: 'line-3-press',
      serialNumber: '12345',
      roles: ['Standalone Device'],
      resources: {
        cpu: {cores: 2, architecture: 'amd64'},
        memory: '2Gi',
        storage: '40Gi',
        peripherals: [{type: 'gpu', manufacturer: 'NVIDIA'}],
        interfaces: ['ethernet', 'canbus'],
      },
    })
    expect(config.otel).toEqual({httpEndpoint: 'http://127.0.0.1:4318', protocol: 'http/protobuf'})
  })
})

describe('agent config errors name the key, the source and what is accepted', () => {
  test('unknown keys in the file, with a did-you-mean', () => {
    writeFileSync(file, 'server: https://wfm.example\npolling_interval_rate: 5m\ncaFil: /x\n')
    const err = expectConfigError(() => load({flags: {configPath: file}}))
    expect(err.code).toBe('unknown_key')
    expect(err.unknownKeys).toEqual(['polling_interval_rate', 'caFil'])
    expect(err.message).toContain('polling_interval_rate (did you mean pollingIntervalRate?)')
    expect(err.message).toContain('caFil (did you mean caFile?)')
    expect(err.source).toBe('file')
    expect(err.origin).toBe(file)
  })

  test('unknown nested keys are named with their path', () => {
    writeFileSync(file, 'server: https://wfm.example\ncapabilities:\n  resources:\n    memmory: 1Gi\n')
    const err = expectConfigError(() => load({flags: {configPath: file}}))
    expect(err.unknownKeys).toEqual(['capabilities.resources.memmory'])
    expect(err.message).toContain('did you mean capabilities.resources.memory?')
  })

  test('an invalid value from the environment names the variable and the accepted forms', () => {
    const err = expectConfigError(() => load({env: {MARGO_SERVER: 'https://wfm.example', MARGO_POLL_INTERVAL: 'often'}}))
    expect(err.key).toBe('pollingIntervalRate')
    expect(err.source).toBe('env')
    expect(err.message).toContain('MARGO_POLL_INTERVAL')
    expect(err.message).toContain('PT5M')
    expect(err.exitCode).toBe(2)
  })

  test('CL-02/03: one WFM, and http:// servers are refused: the fleet manager is only reached over HTTPS', () => {
    const err = expectConfigError(() => load({flags: {server: 'http://wfm.example'}}))
    expect(err.key).toBe('server')
    expect(err.source).toBe('flag')
    expect(err.message).toContain('--server')
    expect(err.message).toContain('HTTPS')
  })

  test('no server anywhere tells the user the three ways to set one', () => {
    const err = expectConfigError(() => load())
    expect(err.code).toBe('missing_value')
    expect(err.message).toContain('--server')
    expect(err.message).toContain('MARGO_SERVER')
  })

  test('a key without its certificate (or the reverse) is refused', () => {
    const err = expectConfigError(() => load({flags: {server: 'https://wfm.example', keyFile: '/etc/margo/key.pem'}}))
    expect(err.key).toBe('certFile')
  })

  test('bad enum, fingerprint, window and time zone values', () => {
    const base = {server: 'https://wfm.example'}
    expect(expectConfigError(() => load({flags: {...base, keyType: 'ed25519'}})).accepted).toBe('one of p256, p384, rsa2048')
    expect(expectConfigError(() => load({flags: {...base, caFingerprint: 'abc'}})).key).toBe('caFingerprint')
    expect(expectConfigError(() => load({flags: {...base, pollingIntervalPeriod: '6-22'}})).key).toBe('pollingIntervalPeriod')
    expect(expectConfigError(() => load({flags: {...base, pollingIntervalPeriod: '06:00-24:01'}})).message).toContain('24:01')
    expect(expectConfigError(() => load({flags: {...base, timezone: 'Mars/Olympus'}})).key).toBe('timezone')
    writeFileSync(file, 'server: https://wfm.example\ncapabilities: {roles: [Robot]}\n')
    const err = expectConfigError(() => load({flags: {configPath: file}}))
    expect(err.key).toBe('capabilities.roles[0]')
    expect(err.message).toContain(file)
  })

  test('a YAML syntax error and a non-mapping document are reported against the file', () => {
    writeFileSync(file, 'server: [unclosed\n')
    expect(expectConfigError(() => load({flags: {configPath: file}})).origin).toBe(file)
    writeFileSync(file, '- a\n- b\n')
    expect(expectConfigError(() => load({flags: {configPath: file}})).message).toContain('mapping')
  })
})

describe('value parsers', () => {
  test('durations: seconds, compact units, ISO 8601', () => {
    expect(parseDurationMs(300)).toBe(300_000)
    expect(parseDurationMs('300')).toBe(300_000)
    expect(parseDurationMs('5m')).toBe(300_000)
    expect(parseDurationMs('1h30m')).toBe(5_400_000)
    expect(parseDurationMs('90s')).toBe(90_000)
    expect(parseDurationMs('PT5M')).toBe(300_000)
    expect(parseDurationMs('P1DT1S')).toBe(86_401_000)
    expect(parseDurationMs('PT')).toBeNull()
    expect(parseDurationMs('5 minutes')).toBeNull()
    expect(parseDurationMs('-5')).toBeNull()
  })

  test('CA fingerprints: prefixed hex, bare hex, colon pairs, openssl output', () => {
    const hex = 'ab'.repeat(32)
    const want = `sha256:${hex}`
    expect(parseCaFingerprint(`sha256:${hex}`)).toBe(want)
    expect(parseCaFingerprint(hex.toUpperCase())).toBe(want)
    expect(parseCaFingerprint(hex.match(/../g)!.join(':').toUpperCase())).toBe(want)
    expect(parseCaFingerprint(`sha256 Fingerprint=${hex.match(/../g)!.join(':')}`)).toBe(want)
    expect(parseCaFingerprint('sha256:abcd')).toBeNull()
  })

  test('daily windows', () => {
    expect(isDailyWindow('00:00-24:00')).toBe(true)
    expect(isDailyWindow('22:00-06:00')).toBe(true)
    expect(isDailyWindow('08:00-08:00')).toBe(false)
    expect(isDailyWindow('24:00-06:00')).toBe(false)
    expect(isDailyWindow('6:00-22:00')).toBe(true)
    expect(isDailyWindow('06:60-22:00')).toBe(false)
  })

  test('key suggestions', () => {
    expect(suggestKey('sever', ['server', 'stateDir'])).toBe('server')
    expect(suggestKey('state-dir', ['server', 'stateDir'])).toBe('stateDir')
    expect(suggestKey('zzzzzz', ['server', 'stateDir'])).toBeUndefined()
  })
})

describe('--print-config', () => {
  test('YAML with the source of every key, readable back', () => {
    writeFileSync(file, 'server: https://wfm.example/v1alpha2/margo\nlogLevel: debug\n')
    const {config, sources} = load({flags: {configPath: file, pollingIntervalRate: '90'}})
    const out = renderConfig(config, sources)
    expect(out).toContain('server: https://wfm.example/v1alpha2/margo  # from file')
    expect(out).toContain('pollingIntervalRate: 90s  # from flag')
    expect(out).toContain('keyType: p256  # from default')
    expect(out).toContain('# caFile: (not set)')
    const back = parseYaml(out) as Record<string, unknown>
    expect(back.server).toBe(config.server)
    expect(back.logLevel).toBe('debug')
    expect(back.pollingIntervalPeriod).toEqual(['00:00-24:00'])
  })

  test('secrets are redacted, key paths are not', () => {
    const {config, sources} = load({flags: {server: 'https://wfm.example', keyFile: '/k/key.pem', certFile: '/k/cert.pem'}})
    const withSecret = {...config, token: 'abc123', otel: {httpEndpoint: 'http://c:4318', password: 'pw'}} as typeof config
    const out = renderConfig(withSecret, sources)
    expect(out).toContain('keyFile: /k/key.pem')
    expect(out).not.toContain('pw')
    expect(redact({token: 't', privateKey: 'x', keyType: 'p256', nested: ['-----BEGIN PRIVATE KEY-----\nAAA']})).toEqual({
      token: '<redacted>', privateKey: '<redacted>', keyType: 'p256', nested: ['<redacted>'],
    })
  })

  test('the join token of the enroll line is read from the file or MARGO_JOIN_TOKEN and never printed', () => {
    const {config, sources} = load({flags: {server: 'https://wfm.example'}, env: {MARGO_JOIN_TOKEN: 'margo-join_abc'}})
    expect(config.joinToken).toBe('margo-join_abc')
    expect(sources.joinToken).toBe('env')
    const out = renderConfig(config, sources)
    expect(out).toContain('joinToken: <redacted>')
    expect(out).not.toContain('margo-join_abc')
  })
})

describe('metricsListen', () => {
  test('off by default; from the flag, MARGO_AGENT_METRICS_LISTEN or the file, in that order, and printed with its source', () => {
    expect(load({flags: {server: 'https://wfm.example'}}).config.metricsListen).toBeUndefined()
    writeFileSync(file, 'server: https://wfm.example\nmetricsListen: 127.0.0.1:9000\n')
    expect(load({flags: {configPath: file}}).config.metricsListen).toBe('127.0.0.1:9000')
    const fromEnv = load({flags: {configPath: file}, env: {MARGO_AGENT_METRICS_LISTEN: '[::1]:9001'}})
    expect(fromEnv.config.metricsListen).toBe('[::1]:9001')
    expect(fromEnv.sources.metricsListen).toBe('env')
    const fromFlag = load({flags: {configPath: file, metricsListen: 'localhost:0'}, env: {MARGO_AGENT_METRICS_LISTEN: '[::1]:9001'}})
    expect(fromFlag.config.metricsListen).toBe('localhost:0')
    expect(renderConfig(fromFlag.config, fromFlag.sources)).toContain('metricsListen: localhost:0  # from flag')
    expect(renderConfig(load({flags: {server: 'https://wfm.example'}}).config, {})).toContain('# metricsListen: (not set)')
  })

  test('only loopback: the listener speaks plain HTTP without a token, as with margo serve', () => {
    for (const value of ['0.0.0.0:9464', ':9464', '10.0.0.5:9464', '[::]:9464']) {
      const err = expectConfigError(() => load({flags: {server: 'https://wfm.example', metricsListen: value}}))
      expect(err.message).toContain('--metrics-listen')
      expect(err.message).toContain('loopback only')
    }
    const malformed = expectConfigError(() => load({flags: {server: 'https://wfm.example'}, env: {MARGO_AGENT_METRICS_LISTEN: '127.0.0.1'}}))
    expect(malformed.message).toContain('MARGO_AGENT_METRICS_LISTEN')
    expect(malformed.message).toContain('HOST:PORT')
  })
})
