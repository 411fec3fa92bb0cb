import {describe, expect, test} from 'bun:test'
import {X509Certificate} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {certificatePolicyProblems, createSelfSignedDeviceCertificate} from '../../../src/pki/index.ts'
import {generateKeyPair} from '../../../src/signing/index.ts'
import {conformanceFixtures} from '../../shared.ts'

const CONFORMANCE = conformanceFixtures('test/unit/pki/policy.test.ts')
const withFixtures = test.skipIf(!CONFORMANCE)

const CERTS = `${CONFORMANCE}/conformance/device-supplier/certs`
const load = (path: string) => new X509Certificate(readFileSync(path))
// Inside every fixture's validity period (the latest notBefore is 2026-09-02, the earliest notAfter 2027-05-29).
const DURING = new Date('2026-12-01T00:00:00Z')

describe('certificatePolicyProblems', () => {
  withFixtures('WFM-09: the conformance device certificates are acceptable', () => {
    for (const path of [
      `${CONFORMANCE}/conformance-2/wfm-supplier/newman-data/certs/device-cert.pem`,
      `${CERTS}/device-ec384-cert.pem`,
      `${CERTS}/device-rsa2048-cert.pem`,
    ]) {
      expect(certificatePolicyProblems(load(path), DURING)).toEqual([])
    }
  })

  withFixtures('WFM-09: an RSA-1024 key is too weak', () => {
    const problems = certificatePolicyProblems(load(`${CERTS}/device-weakkey-cert.pem`), DURING)
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/1024 bits.*2048/)
  })

  withFixtures('WFM-15: an expired certificate', () => {
    const problems = certificatePolicyProblems(load(`${CERTS}/device-ec384-cert.pem`), new Date('2028-01-01T00:00:00Z'))
    expect(problems).toEqual(['the certificate expired on 2027-09-02T12:36:57.000Z'])
  })

  withFixtures('a certificate that is not yet valid', () => {
    const problems = certificatePolicyProblems(load(`${CERTS}/device-ec384-cert.pem`), new Date('2026-01-01T00:00:00Z'))
    expect(problems).toEqual(['the certificate is not valid before 2026-09-02T12:36:57.000Z'])
  })

  test('generated P-256 and Ed25519 device certificates pass with the default clock', async () => {
    for (const type of ['p256', 'ed25519'] as const) {
      const pem = await createSelfSignedDeviceCertificate({...generateKeyPair(type), subject: 'CN=margo-agent-test,O=margo'})
      expect(certificatePolicyProblems(new X509Certificate(pem))).toEqual([])
    }
  })
})
