import {describe, expect, test} from 'bun:test'
import {readFileSync} from 'node:fs'
import {X509Certificate} from 'node:crypto'
import {generateKeyPair, loadPrivateKey, signRequest, spkiSha256Hex, verifyRequest, type SignatureAlgorithm} from '../../../src/signing/index.ts'
import {conformanceFixtures} from '../../shared.ts'

// Real device key pairs from the Margo conformance suites, read in place.
const SUITES = conformanceFixtures('test/unit/signing/fixtures.test.ts')
const FIXTURES: Array<{name: string, cert: string, key: string, algs: SignatureAlgorithm[]}> = [
  {
    name: 'suite A device (EC P-256, SEC1 key)',
    cert: `${SUITES}/conformance-2/wfm-supplier/newman-data/certs/device-cert.pem`,
    key: `${SUITES}/conformance-2/wfm-supplier/newman-data/certs/device.key`,
    algs: ['ecdsa-p256-sha256'],
  },
  {
    name: 'device-supplier MI-012 (EC P-384)',
    cert: `${SUITES}/conformance/device-supplier/certs/device-ec384-cert.pem`,
    key: `${SUITES}/conformance/device-supplier/certs/device-ec384-key.pem`,
    algs: ['ecdsa-p384-sha384'],
  },
  {
    name: 'device-supplier MI-014 (RSA-2048, PKCS#8 key)',
    cert: `${SUITES}/conformance/device-supplier/certs/device-rsa2048-cert.pem`,
    key: `${SUITES}/conformance/device-supplier/certs/device-rsa2048-key.pem`,
    algs: ['rsa-v1_5-sha256', 'rsa-pss-sha256', 'rsa-pss-sha512'],
  },
]

const NOW = 1800000000
const URL_ONBOARD = 'https://wfm.example.com/api/v1/onboarding'

describe.skipIf(!SUITES)('conformance fixture key pairs', () => {
  for (const fixture of FIXTURES) {
    for (const alg of fixture.algs) {
      test(`WFM-08: ${fixture.name} signs with ${alg} and verifies against its certificate`, async () => {
        const privateKey = loadPrivateKey(readFileSync(fixture.key, 'utf8'))
        const publicKey = new X509Certificate(readFileSync(fixture.cert)).publicKey
        const body = new TextEncoder().encode(JSON.stringify({kind: 'OnboardingRequest', certificate: 'x'}))
        const headers = await signRequest({method: 'POST', url: URL_ONBOARD, body}, {privateKey, keyId: spkiSha256Hex(publicKey), alg, created: NOW})
        expect(await verifyRequest({method: 'POST', url: URL_ONBOARD, headers, body}, {publicKey, now: NOW})).toMatchObject({ok: true, alg})
        expect(await verifyRequest({method: 'POST', url: URL_ONBOARD, headers, body}, {publicKey: generateKeyPair('p256').publicKey, now: NOW}))
          .toMatchObject({ok: false})
      })
    }
  }

  test('suite A keyid is the SPKI SHA-256 documented for the fixture', () => {
    const cert = new X509Certificate(readFileSync(`${SUITES}/conformance-2/wfm-supplier/newman-data/certs/device-cert.pem`))
    const keyid = spkiSha256Hex(cert.publicKey)
    expect(keyid.startsWith('a5cce7af')).toBe(true)
    expect(keyid.endsWith('661a12')).toBe(true)
  })
})
