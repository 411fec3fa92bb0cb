import {beforeAll, describe, expect, test} from 'bun:test'
import {createMessage, generateKey, readPrivateKey, sign, type PrivateKey} from 'openpgp'
import {DriverError} from '../../../src/agent/drivers/errors.ts'
import {checkPackageSignature, signatureLocations, verifyDetachedSignature} from '../../../src/agent/drivers/signature.ts'

let privateKey: PrivateKey
let publicArmored: string
let otherPublicArmored: string
const pkg = new TextEncoder().encode('services:\n  web:\n    image: busybox\n')

async function detachedSignature(data: Uint8Array, format: 'armored' | 'binary' = 'armored'): Promise<Uint8Array> {
  const message = await createMessage({binary: data})
  if (format === 'binary') return (await sign({message, signingKeys: privateKey, detached: true, format: 'binary'})) as Uint8Array
  return new TextEncoder().encode((await sign({message, signingKeys: privateKey, detached: true})) as string)
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (e) {
    if (e instanceof DriverError) return e.code
    throw e
  }
  return 'resolved'
}

beforeAll(async () => {
  const k = await generateKey({type: 'ecc', curve: 'curve25519Legacy', userIDs: [{name: 'Package Signer', email: 'signer@example.com'}], format: 'armored'})
  privateKey = await readPrivateKey({armoredKey: k.privateKey})
  publicArmored = k.publicKey
  otherPublicArmored = (await generateKey({type: 'ecc', curve: 'curve25519Legacy', userIDs: [{name: 'Someone Else'}], format: 'armored'})).publicKey
})

describe('package signatures (A17)', () => {
  test('A17: the signature is looked for at <packageLocation>.asc, then .sig, before any query string', () => {
    expect(signatureLocations('https://example.com/app.tar.gz')).toEqual(['https://example.com/app.tar.gz.asc', 'https://example.com/app.tar.gz.sig'])
    expect(signatureLocations('https://example.com/app.tar.gz?v=2')).toEqual(['https://example.com/app.tar.gz.asc?v=2', 'https://example.com/app.tar.gz.sig?v=2'])
  })

  test('A17: a valid armored or binary detached signature verifies and names the key', async () => {
    const key = new TextEncoder().encode(publicArmored)
    const fingerprint = await verifyDetachedSignature(pkg, await detachedSignature(pkg), key)
    expect(fingerprint).toBe(privateKey.getFingerprint())
    expect(await verifyDetachedSignature(pkg, await detachedSignature(pkg, 'binary'), key)).toBe(fingerprint)
  })

  test('A17: a tampered package fails with PACKAGE_SIGNATURE_INVALID', async () => {
    const signature = await detachedSignature(pkg)
    const tampered = new Uint8Array(pkg)
    tampered[0] = tampered[0]! ^ 1
    expect(await codeOf(verifyDetachedSignature(tampered, signature, new TextEncoder().encode(publicArmored)))).toBe('PACKAGE_SIGNATURE_INVALID')
  })

  test('A17: a signature by another key fails with PACKAGE_SIGNATURE_INVALID', async () => {
    expect(await codeOf(verifyDetachedSignature(pkg, await detachedSignature(pkg), new TextEncoder().encode(otherPublicArmored)))).toBe('PACKAGE_SIGNATURE_INVALID')
  })

  test('A17: garbage instead of a signature or a key has its own code', async () => {
    expect(await codeOf(verifyDetachedSignature(pkg, new TextEncoder().encode('not a signature'), new TextEncoder().encode(publicArmored)))).toBe('PACKAGE_SIGNATURE_INVALID')
    expect(await codeOf(verifyDetachedSignature(pkg, await detachedSignature(pkg), new TextEncoder().encode('-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnope\n-----END PGP PUBLIC KEY BLOCK-----\n')))).toBe('PACKAGE_KEY_INVALID')
  })

  describe('fetching key and signature', () => {
    const base = 'https://packages.example/app.tar.gz'
    const fetcher = (files: Record<string, Uint8Array>) => {
      const asked: string[] = []
      return {
        asked,
        download: async (url: string) => {
          asked.push(url)
          const f = files[url]
          if (!f) throw new Error(`HTTP 404 for ${url}`)
          return f
        },
      }
    }

    test('A17: .asc is used when present', async () => {
      const f = fetcher({'https://keys.example/key.asc': new TextEncoder().encode(publicArmored), [`${base}.asc`]: await detachedSignature(pkg)})
      expect((await checkPackageSignature(pkg, base, 'https://keys.example/key.asc', f.download)).signatureLocation).toBe(`${base}.asc`)
    })

    test('A17: .sig is the fallback', async () => {
      const f = fetcher({'https://keys.example/key.asc': new TextEncoder().encode(publicArmored), [`${base}.sig`]: await detachedSignature(pkg, 'binary')})
      expect((await checkPackageSignature(pkg, base, 'https://keys.example/key.asc', f.download)).signatureLocation).toBe(`${base}.sig`)
      expect(f.asked).toEqual(['https://keys.example/key.asc', `${base}.asc`, `${base}.sig`])
    })

    test('A17: no signature anywhere fails closed with PACKAGE_SIGNATURE_MISSING', async () => {
      const f = fetcher({'https://keys.example/key.asc': new TextEncoder().encode(publicArmored)})
      expect(await codeOf(checkPackageSignature(pkg, base, 'https://keys.example/key.asc', f.download))).toBe('PACKAGE_SIGNATURE_MISSING')
    })

    test('A17: an unreachable key fails closed with PACKAGE_KEY_DOWNLOAD_FAILED', async () => {
      const f = fetcher({[`${base}.asc`]: await detachedSignature(pkg)})
      expect(await codeOf(checkPackageSignature(pkg, base, 'https://keys.example/key.asc', f.download))).toBe('PACKAGE_KEY_DOWNLOAD_FAILED')
    })

    test('A17: a bad .asc does not fall back to .sig', async () => {
      const f = fetcher({
        'https://keys.example/key.asc': new TextEncoder().encode(publicArmored),
        [`${base}.asc`]: await detachedSignature(new TextEncoder().encode('other')),
        [`${base}.sig`]: await detachedSignature(pkg),
      })
      expect(await codeOf(checkPackageSignature(pkg, base, 'https://keys.example/key.asc', f.download))).toBe('PACKAGE_SIGNATURE_INVALID')
    })
  })
})
