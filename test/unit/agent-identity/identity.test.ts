import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {
  IdentityError, clientIdFor, defaultSubject, ensureIdentity, hostIdFrom, identityFiles, loadClientId, saveClientId,
} from '../../../src/agent/identity.ts'
import {parseCertificate} from '../../../src/pki/index.ts'
import {generateKeyPair, privateKeyToPem} from '../../../src/signing/index.ts'
import {tempDir} from './helpers.ts'

let dir: ReturnType<typeof tempDir>
beforeEach(() => {
  dir = tempDir()
})
afterEach(() => dir.cleanup())

async function expectIdentityError(p: Promise<unknown>, code: string): Promise<IdentityError> {
  try {
    await p
  } catch (err) {
    expect(err).toBeInstanceOf(IdentityError)
    expect((err as IdentityError).code).toBe(code)
    return err as IdentityError
  }
  throw new Error('expected an IdentityError')
}

describe('CL-06: the device holds an RFC 5280 certificate and a key of a mandatory Margo algorithm', () => {
  test('first start generates key.pem (0600) and cert.pem; the next start loads the same identity', async () => {
    const machineId = join(dir.path, 'machine-id')
    writeFileSync(machineId, '0123456789abcdef0123456789abcdef\n')
    const state = join(dir.path, 'state')
    const first = await ensureIdentity(state, {keyType: 'p256', hostname: 'press-7', machineIdPath: machineId})
    expect(first.created).toBe(true)
    expect(first.keyType).toBe('ec-p256')
    expect(first.alg).toBe('ecdsa-p256-sha256')
    const files = identityFiles(state)
    expect(statSync(files.key).mode & 0o777).toBe(0o600)
    expect(readFileSync(files.key, 'utf8')).toContain('-----BEGIN PRIVATE KEY-----')

    const parsed = parseCertificate(readFileSync(files.cert, 'utf8'))
    if (!parsed.ok) throw new Error(parsed.reason)
    expect(parsed.fingerprint).toBe(`sha256:${first.fingerprint}`)
    expect(parsed.cert.subject).toContain('CN=margo-agent-press-7')
    expect(parsed.cert.subject).toContain('O=margo')
    // The raw machine-id never leaves the host; a keyed hash of it does.
    expect(parsed.cert.subject).not.toContain('0123456789abcdef0123456789abcdef')
    expect(parsed.cert.subject).toContain(`serialNumber=${hostIdFrom('0123456789abcdef0123456789abcdef')}`)
    expect(parsed.cert.ca).toBe(false)
    expect(first.certNotAfter.getTime()).toBeGreaterThan(Date.now() + 5 * 365 * 86_400_000)

    const second = await ensureIdentity(state, {keyType: 'p256'})
    expect(second.created).toBe(false)
    expect(second.fingerprint).toBe(first.fingerprint)
    expect(second.certPem).toBe(first.certPem)
  })

  test('P-384 and RSA-2048 keys can be chosen', async () => {
    const p384 = await ensureIdentity(join(dir.path, 'a'), {keyType: 'p384', hostname: 'h'})
    expect(p384.alg).toBe('ecdsa-p384-sha384')
    const rsa = await ensureIdentity(join(dir.path, 'b'), {keyType: 'rsa2048', hostname: 'h'})
    expect(rsa.keyType).toBe('rsa-2048')
    expect(rsa.alg).toBe('rsa-v1_5-sha256')
  })

  test('an existing key of another type is kept, with a warning', async () => {
    const state = join(dir.path, 'state')
    const first = await ensureIdentity(state, {keyType: 'p256', hostname: 'h'})
    const again = await ensureIdentity(state, {keyType: 'p384'})
    expect(again.fingerprint).toBe(first.fingerprint)
    expect(again.warnings.join(' ')).toContain('configured p384')
  })

  test('a key left without its certificate gets a new certificate for the same key', async () => {
    const state = join(dir.path, 'state')
    const first = await ensureIdentity(state, {keyType: 'p256', hostname: 'h'})
    rmSync(identityFiles(state).cert)
    const again = await ensureIdentity(state, {keyType: 'p256', hostname: 'h'})
    expect(again.fingerprint).not.toBe(first.fingerprint)
    expect(readFileSync(identityFiles(state).key, 'utf8')).toBe(privateKeyToPem(first.privateKey))
  })

  test('a certificate without its key is an incomplete identity, not silently replaced', async () => {
    const state = join(dir.path, 'state')
    await ensureIdentity(state, {keyType: 'p256', hostname: 'h'})
    rmSync(identityFiles(state).key)
    const err = await expectIdentityError(ensureIdentity(state, {keyType: 'p256'}), 'incomplete')
    expect(err.message).toContain('key.pem')
  })

  test('bring-your-own key and certificate are used in place, never copied', async () => {
    const source = await ensureIdentity(join(dir.path, 'src'), {keyType: 'p256', hostname: 'h'})
    const keyFile = join(dir.path, 'byo-key.pem')
    const certFile = join(dir.path, 'byo-cert.pem')
    writeFileSync(keyFile, privateKeyToPem(source.privateKey), {mode: 0o600})
    writeFileSync(certFile, source.certPem)
    const state = join(dir.path, 'state')
    const byo = await ensureIdentity(state, {keyType: 'p256', keyFile, certFile})
    expect(byo.fingerprint).toBe(source.fingerprint)
    expect(byo.keyPath).toBe(keyFile)
    expect(existsSync(identityFiles(state).key)).toBe(false)
    expect(byo.warnings).toEqual([])
  })

  test('a bring-your-own key that does not match the certificate is refused without revealing the key', async () => {
    const source = await ensureIdentity(join(dir.path, 'src'), {keyType: 'p256', hostname: 'h'})
    const other = generateKeyPair('p256')
    const keyFile = join(dir.path, 'other-key.pem')
    const certFile = join(dir.path, 'cert.pem')
    const keyPem = privateKeyToPem(other.privateKey)
    writeFileSync(keyFile, keyPem)
    writeFileSync(certFile, source.certPem)
    const err = await expectIdentityError(ensureIdentity(dir.path, {keyType: 'p256', keyFile, certFile}), 'mismatch')
    expect(err.message).toContain(keyFile)
    const keyBody = keyPem.split('\n')[1]!
    expect(err.message).not.toContain(keyBody)
    expect(String(err.stack)).not.toContain(keyBody)
  })

  test('keys outside the mandatory algorithms are refused', async () => {
    const ed = generateKeyPair('ed25519')
    const keyFile = join(dir.path, 'ed.pem')
    writeFileSync(keyFile, privateKeyToPem(ed.privateKey))
    const source = await ensureIdentity(join(dir.path, 'src'), {keyType: 'p256', hostname: 'h'})
    const certFile = join(dir.path, 'cert.pem')
    writeFileSync(certFile, source.certPem)
    await expectIdentityError(ensureIdentity(dir.path, {keyType: 'p256', keyFile, certFile}), 'unsupported_key')
  })

  test('a bring-your-own key readable by others is used but flagged', async () => {
    const source = await ensureIdentity(join(dir.path, 'src'), {keyType: 'p256', hostname: 'h'})
    const keyFile = join(dir.path, 'loose.pem')
    const certFile = join(dir.path, 'cert.pem')
    writeFileSync(keyFile, privateKeyToPem(source.privateKey))
    chmodSync(keyFile, 0o644)
    writeFileSync(certFile, source.certPem)
    const byo = await ensureIdentity(dir.path, {keyType: 'p256', keyFile, certFile})
    expect(byo.warnings.join(' ')).toContain('chmod 600')
  })

  test('a garbage key file is an error that names the file', async () => {
    const keyFile = join(dir.path, 'junk.pem')
    const certFile = join(dir.path, 'cert.pem')
    writeFileSync(keyFile, 'not a key')
    writeFileSync(certFile, 'not a cert')
    const err = await expectIdentityError(ensureIdentity(dir.path, {keyType: 'p256', keyFile, certFile}), 'unreadable')
    expect(err.message).toContain(keyFile)
  })

  test('the default subject escapes nothing because it never needs to', () => {
    expect(defaultSubject('edge,01 +x', 'abc')).toBe('CN=margo-agent-edge-01--x, O=margo, 2.5.4.5=abc')
    expect(defaultSubject('edge01')).toBe('CN=margo-agent-edge01, O=margo')
    expect(hostIdFrom('not-a-machine-id')).toBeUndefined()
  })
})

describe('CL-08: the clientId is persisted durably', () => {
  test('saved atomically to identity.json and read back', () => {
    expect(loadClientId(dir.path)).toBeNull()
    const record = {clientId: '3f0c2a9e-0000-4000-8000-000000000001', server: 'https://wfm.example/v1alpha2/margo', fingerprint: 'ab'.repeat(32), onboardedAt: '2026-01-01T00:00:00.000Z'}
    saveClientId(dir.path, record)
    expect(loadClientId(dir.path)).toEqual(record)
    expect(statSync(join(dir.path, 'identity.json')).mode & 0o777).toBe(0o600)
  })

  test('a corrupt identity.json is a typed error that says how to recover', () => {
    writeFileSync(join(dir.path, 'identity.json'), '{"clientId": ')
    expect(() => loadClientId(dir.path)).toThrow(IdentityError)
    writeFileSync(join(dir.path, 'identity.json'), '{"clientId": "a/b", "server": "s", "fingerprint": "f", "onboardedAt": "t"}')
    expect(() => loadClientId(dir.path)).toThrow(/delete it/)
  })

  test('a clientId that is not URL-safe is never stored', () => {
    expect(() => saveClientId(dir.path, {clientId: '../x', server: 's', fingerprint: 'f', onboardedAt: 't'})).toThrow(IdentityError)
  })
})

describe('A19: a clientId is reused only for the server and certificate it was issued to', () => {
  const record = {clientId: 'c1', server: 'https://wfm.example/v1alpha2/margo', fingerprint: 'aa', onboardedAt: 't'}
  test('same server (trailing slash ignored) and fingerprint', () => {
    expect(clientIdFor(record, {server: 'https://wfm.example/v1alpha2/margo/', fingerprint: 'aa'})).toBe('c1')
  })
  test('a new certificate or another server means onboarding again', () => {
    expect(clientIdFor(record, {server: record.server, fingerprint: 'bb'})).toBeNull()
    expect(clientIdFor(record, {server: 'https://other.example', fingerprint: 'aa'})).toBeNull()
    expect(clientIdFor(null, {server: record.server, fingerprint: 'aa'})).toBeNull()
  })
})
