import {describe, expect, test} from 'bun:test'
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {certificateToBase64Der, parseCertificate} from '../../../src/pki/index.ts'
import {conformanceFixtures} from '../../shared.ts'

const CONFORMANCE = conformanceFixtures('test/unit/pki/parse.test.ts')
const withFixtures = test.skipIf(!CONFORMANCE)
const CERTS = `${CONFORMANCE}/conformance/device-supplier/certs`
const DEVICE_PEM = CONFORMANCE ? readFileSync(`${CONFORMANCE}/conformance-2/wfm-supplier/newman-data/certs/device-cert.pem`, 'utf8') : ''
const RSA_PEM = CONFORMANCE ? readFileSync(`${CERTS}/device-rsa2048-cert.pem`, 'utf8') : ''
const DEVICE_DER = Buffer.from(DEVICE_PEM.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
const FINGERPRINT = `sha256:${createHash('sha256').update(DEVICE_DER).digest('hex')}`

function expectDevice(input: string) {
  const parsed = parseCertificate(input)
  if (!parsed.ok) throw new Error(`expected a certificate, got: ${parsed.reason}`)
  expect(parsed.fingerprint).toBe(FINGERPRINT)
  expect(Buffer.from(parsed.der).equals(DEVICE_DER)).toBe(true)
  expect(parsed.cert.subject).toContain('CN=device-1780041542-77930')
  expect(parsed.pem).toStartWith('-----BEGIN CERTIFICATE-----\n')
  return parsed
}

function expectReason(input: string, pattern: RegExp) {
  const parsed = parseCertificate(input)
  expect(parsed.ok).toBe(false)
  if (!parsed.ok) expect(parsed.reason).toMatch(pattern)
}

describe('parseCertificate', () => {
  withFixtures('WFM-05: base64 DER, the onboarding wire format', () => {
    expectDevice(DEVICE_DER.toString('base64'))
  })

  withFixtures('base64 DER with line breaks and spaces', () => {
    const wrapped = (DEVICE_DER.toString('base64').match(/.{1,60}/g) as string[]).join('\r\n  ')
    expectDevice(`\n${wrapped}\n`)
  })

  withFixtures('base64 of PEM text (how the conformance environment sends it)', () => {
    expectDevice(Buffer.from(DEVICE_PEM).toString('base64'))
  })

  withFixtures('raw PEM', () => {
    expectDevice(DEVICE_PEM)
  })

  withFixtures('a PEM chain yields its first certificate', () => {
    expectDevice(`${DEVICE_PEM}${RSA_PEM}`)
    const other = parseCertificate(`${RSA_PEM}\n${DEVICE_PEM}`)
    expect(other.ok && other.cert.subject.includes('CN=device-rsa2048')).toBe(true)
  })

  withFixtures('the PEM output round-trips to the same DER', () => {
    const parsed = expectDevice(DEVICE_PEM)
    expectDevice(parsed.pem)
  })

  test('empty input', () => {
    expectReason('', /empty/)
    expectReason('   \n', /empty/)
  })

  test('neither PEM nor base64', () => {
    expectReason('this is not a certificate!', /neither PEM nor base64/)
  })

  test('base64 of something that is not DER', () => {
    expectReason(Buffer.from('hello world').toString('base64'), /not a DER X.509 certificate/)
  })

  withFixtures('truncated DER', () => {
    expectReason(DEVICE_DER.subarray(0, 200).toString('base64'), /could not be parsed/)
  })

  withFixtures('a private key is refused with a warning', () => {
    const key = readFileSync(`${CERTS}/device-rsa2048-key.pem`, 'utf8')
    expectReason(key, /private key/)
    expectReason(Buffer.from(key).toString('base64'), /private key/)
  })

  test('an incomplete PEM block', () => {
    expectReason('-----BEGIN CERTIFICATE-----\nMIIB', /no complete/)
  })

  test('a non-string never throws', () => {
    expect(parseCertificate(undefined as unknown as string).ok).toBe(false)
    expect(parseCertificate({} as unknown as string).ok).toBe(false)
  })

  withFixtures('certificateToBase64Der gives the DER, whatever the input form', () => {
    expect(certificateToBase64Der(DEVICE_PEM)).toBe(DEVICE_DER.toString('base64'))
    expect(certificateToBase64Der(Buffer.from(DEVICE_PEM).toString('base64'))).toBe(DEVICE_DER.toString('base64'))
    expect(() => certificateToBase64Der('nope')).toThrow()
  })
})
