import {describe, expect, test} from 'bun:test'
import {parse} from 'yaml'
import {composeVariables, envLine, readComposeFile, renderEnvFile, renderOtelOverride} from '../../../src/agent/drivers/compose-env.ts'
import {DriverError} from '../../../src/agent/drivers/errors.ts'
import {deployment} from './helpers.ts'

const pkg = {packageLocation: 'https://example.com/app.tar.gz'}
const otel = {httpEndpoint: 'http://127.0.0.1:4318', grpcEndpoint: 'http://127.0.0.1:4317', certificate: '/etc/margo/otel-ca.pem', protocol: 'http/protobuf' as const}

/**
 * A reader for the Compose v2 .env dialect as the driver writes it: unquoted values are taken
 * up to a ` #` comment, single quotes are literal, double quotes know \\ \" \n \r and $$.
 */
function readEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  let i = 0
  while (i < text.length) {
    const eol = text.indexOf('\n', i)
    const line = text.slice(i, eol < 0 ? text.length : eol)
    if (line.trim() === '' || line.trimStart().startsWith('#')) {
      i = eol < 0 ? text.length : eol + 1
      continue
    }
    const eq = line.indexOf('=')
    const name = line.slice(0, eq)
    let j = i + eq + 1
    const q = text[j]
    if (q === "'") {
      const end = text.indexOf("'", j + 1)
      out[name] = text.slice(j + 1, end)
      j = end + 1
    } else if (q === '"') {
      let value = ''
      j++
      while (text[j] !== '"') {
        if (text[j] === '\\') {
          const c = text[j + 1]
          value += c === 'n' ? '\n' : c === 'r' ? '\r' : c
          j += 2
        } else if (text[j] === '$' && text[j + 1] === '$') {
          value += '$'
          j += 2
        } else {
          value += text[j]
          j++
        }
      }
      out[name] = value
      j++
    } else {
      const end = text.indexOf('\n', j)
      out[name] = text.slice(j, end < 0 ? text.length : end).split(' #')[0]!.trimEnd()
      j = end < 0 ? text.length : end
    }
    const next = text.indexOf('\n', j)
    i = next < 0 ? text.length : next + 1
  }
  return out
}

describe('compose environment', () => {
  test('CL-26: each parameter targeting the component becomes a variable named by its pointer', () => {
    const d = deployment('compose', [{name: 'app', properties: pkg}, {name: 'other', properties: pkg}], {
      siteId: {value: 'SID-123-ABC', targets: [{pointer: 'SITE_ID', components: ['app']}]},
      poll: {value: 120, targets: [{pointer: 'POLL', components: ['app', 'other']}]},
      flag: {value: true, targets: [{pointer: 'FLAG', components: ['other']}]},
      hosts: {value: ['a', 'b'], targets: [{pointer: 'HOSTS', components: ['app']}]},
    })
    expect(Object.fromEntries(composeVariables(d, 'app'))).toEqual({SITE_ID: 'SID-123-ABC', POLL: '120', HOSTS: 'a,b'})
    expect(Object.fromEntries(composeVariables(d, 'other'))).toEqual({POLL: '120', FLAG: 'true'})
  })

  test('A25: a leading ENV. on a pointer is dropped', () => {
    const d = deployment('compose', [{name: 'app', properties: pkg}], {
      idp: {value: 'keycloak', targets: [{pointer: 'ENV.IDP_NAME', components: ['app']}]},
    })
    expect(Object.fromEntries(composeVariables(d, 'app'))).toEqual({IDP_NAME: 'keycloak'})
  })

  test('A25: pointers that are not environment variable names are refused with COMPOSE_PARAMETER_INVALID', () => {
    for (const pointer of ['settings.poll', '1ST', 'WITH-DASH', 'has space', 'ENV.', 'É']) {
      const d = deployment('compose', [{name: 'app', properties: pkg}], {bad: {value: 'x', targets: [{pointer, components: ['app']}]}})
      let error: unknown
      try {
        composeVariables(d, 'app')
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(DriverError)
      expect((error as DriverError).code).toBe('COMPOSE_PARAMETER_INVALID')
      expect((error as DriverError).message).toContain('bad')
    }
  })

  test('CL-36: the OpenTelemetry variables are added and win over a parameter of the same name', () => {
    const d = deployment('compose', [{name: 'app', properties: pkg}], {
      ep: {value: 'http://elsewhere', targets: [{pointer: 'HTTP_OTEL_EXPORTER_OTLP_ENDPOINT', components: ['app']}]},
    })
    expect(Object.fromEntries(composeVariables(d, 'app', otel))).toEqual({
      HTTP_OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      GRPC_OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317',
      OTEL_EXPORTER_OTLP_CERTIFICATE: '/etc/margo/otel-ca.pem',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    })
    expect(Object.fromEntries(composeVariables(d, 'app', {httpEndpoint: 'http://127.0.0.1:4318'}))).toEqual({HTTP_OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318'})
  })

  test('CL-26: .env values round-trip spaces, #, quotes, $, backslashes and newlines', () => {
    const values = ['plain', '', 'with space', 'a # not a comment', "it's", 'say "hi"', '$HOME and ${X}', 'back\\slash', 'multi\nline', "all: ' \" $ \\ \n #", 'tab\there', 'é😀', '=leading', 'trailing ']
    const vars = new Map(values.map((v, i) => [`V${i}`, v]))
    const text = renderEnvFile(vars)
    expect(readEnvFile(text)).toEqual(Object.fromEntries(vars))
    // One logical line per variable: no raw newline outside quotes.
    expect(envLine('A', 'x y')).toBe("A='x y'")
    expect(envLine('A', 'simple-1.2')).toBe('A=simple-1.2')
    expect(envLine('A', "it's $5")).toBe('A="it\'s $$5"')
  })

  test("a package's own .env comes first so its defaults apply unless a parameter overrides them", () => {
    const text = renderEnvFile(new Map([['SITE_ID', 'S1']]), 'SITE_ID=default\nLOG_LEVEL=info\n')
    expect(text.indexOf('SITE_ID=default')).toBeLessThan(text.indexOf('SITE_ID=S1'))
    expect(readEnvFile(text)).toEqual({SITE_ID: 'S1', LOG_LEVEL: 'info'})
  })
})

describe('compose override (CL-36)', () => {
  const composeYaml = 'version: "3.8"\nservices:\n  web:\n    image: busybox\n  worker:\n    image: busybox\n'

  test('CL-36: every service gets the OpenTelemetry variables; the certificate is mounted read-only', () => {
    const override = renderOtelOverride(readComposeFile(composeYaml), otel)!
    const doc = parse(override, {version: '1.1'}) as {version: string, services: Record<string, {environment: Record<string, string>, volumes: string[]}>}
    expect(doc.version).toBe('3.8')
    expect(Object.keys(doc.services)).toEqual(['web', 'worker'])
    for (const service of Object.values(doc.services)) {
      expect(service.environment).toEqual({
        HTTP_OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        GRPC_OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317',
        OTEL_EXPORTER_OTLP_CERTIFICATE: '/etc/margo/otel-ca.pem',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      })
      expect(service.volumes).toEqual(['/etc/margo/otel-ca.pem:/etc/margo/otel-ca.pem:ro'])
    }
  })

  test('CL-36: a $ in an endpoint is escaped for compose interpolation', () => {
    const override = renderOtelOverride({services: ['web']}, {httpEndpoint: 'http://127.0.0.1:4318/v1?k=$x'})!
    expect(override).toContain('"http://127.0.0.1:4318/v1?k=$$x"')
    expect(override).not.toContain('volumes')
    expect(override).not.toContain('version')
  })

  test('no OpenTelemetry settings or no services: no override', () => {
    expect(renderOtelOverride(readComposeFile(composeYaml), undefined)).toBeUndefined()
    expect(renderOtelOverride({services: []}, otel)).toBeUndefined()
  })

  test('service names come from the compose file; a file that is not a mapping is PACKAGE_INVALID', () => {
    expect(readComposeFile('services:\n  a: {image: x}\n  b: {image: y}\nx-ext: {}\n')).toEqual({services: ['a', 'b']})
    expect(() => readComposeFile('- a\n- b\n')).toThrow(DriverError)
    expect(() => readComposeFile('services: [a]\n')).toThrow(DriverError)
    expect(() => readComposeFile('services: {a: [\n')).toThrow(DriverError)
  })
})
