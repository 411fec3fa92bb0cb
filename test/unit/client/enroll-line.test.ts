import {describe, expect, test} from 'bun:test'
import {enrollLine} from '../../../src/client/enroll.ts'

const FP = `sha256:${'ab'.repeat(32)}`

describe('the enroll line', () => {
  test('one line; the CA is checked against the fingerprint before the install script is fetched over verified TLS', () => {
    const line = enrollLine({deviceUrl: 'https://wfm.example.com:8443/v1alpha2/margo', caFingerprint: FP, ticket: 'mgt1.e30.sig'})
    expect(line).not.toContain('\n')
    expect(line.startsWith("sh -c '")).toBe(true)
    expect(line.endsWith(` margo-enroll 'https://wfm.example.com:8443' '${'ab'.repeat(32)}' 'https://wfm.example.com:8443/v1alpha2/margo' 'mgt1.e30.sig'`)).toBe(true)
    const program = line.slice(7, line.indexOf("' margo-enroll"))
    const insecure = program.indexOf('curl -fsSk')
    const check = program.indexOf('sha256sum')
    const script = program.indexOf('--cacert "$d/ca.pem" "$1/downloads/install.sh"')
    expect(insecure).toBeGreaterThan(-1)
    expect(check).toBeGreaterThan(insecure)
    expect(script).toBeGreaterThan(check)
    // Only the CA is ever fetched without verification.
    expect(program.match(/curl -[A-Za-z]*k\b/g)).toHaveLength(1)
  })

  test('values are passed as quoted arguments, never spliced into the program', () => {
    const line = enrollLine({deviceUrl: "https://wfm.example.com/it's", caFingerprint: FP, ticket: 't'})
    expect(line).toContain(`'https://wfm.example.com/it'\\''s'`)
  })

  test('a fingerprint that is not sha256:<hex> is refused', () => {
    expect(() => enrollLine({deviceUrl: 'https://wfm.example.com', caFingerprint: 'md5:00', ticket: 't'})).toThrow('sha256')
  })
})
