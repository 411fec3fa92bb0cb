import {describe, expect, test} from 'bun:test'
import {createCertificateAuthority} from '../../../src/pki/index.ts'
import {caFingerprint} from '../../../src/server/tls-material.ts'
import {decodeCertificates} from '../../../src/agent/trust.ts'
import {parseCaFingerprint} from '../../../src/agent/config/ca-fingerprint.ts'

describe('the CA fingerprint margo serve prints for agents to pin', () => {
  test('is the sha256 of the root CA DER, in the form margo agent --ca-fingerprint accepts and compares', async () => {
    const ca = await createCertificateAuthority({commonName: 'margo test CA'})
    const fp = caFingerprint(ca.certPem)
    expect(fp).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(parseCaFingerprint(fp)).toBe(fp)
    expect(fp).toBe(decodeCertificates(ca.certPem)![0]!.fingerprint)
  })
})
