import {signRequest} from '../../signing/index.ts'
import type {WireRequest} from './exchange.ts'
import type {DeviceIdentity} from './identity.ts'

/**
 * The three RFC 9421 signing profiles found in the Margo conformance material, and the
 * specification's own. They differ in label, covered components and keyid, and a WFM has to
 * accept all of them:
 * - `proxy`: the Go signing proxy of the Postman run — label `sig`, `@authority` covered, keyid = SPKI hash;
 * - `ctt`: the wfm-core runner — label `sig1`, `@authority` covered, keyid = SPKI hash;
 * - `scenario`: the device-supplier scenario runner — label `sig1`, no `@authority`, keyid `"device-key"`;
 * - `spec`: the normative profile (spec §5.3) — label `sig1`, no `@authority`, `alg` sent, keyid
 *   given by the caller (the clientId, or the certificate fingerprint at onboarding).
 * The suites' profiles send `alg` only when an algorithm was chosen (the verifier takes it from the key).
 */
export type SigningProfile = 'proxy' | 'ctt' | 'scenario' | 'spec'

export interface SignOptions {
  /** Leave `Content-Digest` out of the covered components and off the request. */
  omitDigest?: boolean
  /** The keyid to send instead of the profile's. */
  keyId?: string
  /** Unix seconds for `created` instead of now. */
  created?: number
  /** A `Content-Digest` value to send and sign instead of the body's own. */
  contentDigest?: string
}

export function profileComponents(profile: SigningProfile, hasBody: boolean, omitDigest = false): string[] {
  const base = profile === 'scenario' || profile === 'spec' ? ['@method', '@target-uri'] : ['@method', '@target-uri', '@authority']
  return hasBody && !omitDigest ? [...base, 'content-digest'] : base
}

/** Returns the request with `Content-Digest`, `Signature-Input` and `Signature` added. */
export async function signWire(req: WireRequest, identity: DeviceIdentity, profile: SigningProfile, options: SignOptions = {}): Promise<WireRequest> {
  const hasBody = req.body !== undefined && req.body !== ''
  const headers = {...req.headers}
  delete headers['content-digest']
  // signRequest keeps a digest already on the request: that is how a deliberately wrong one gets signed.
  if (options.contentDigest !== undefined) headers['content-digest'] = options.contentDigest
  const signed = await signRequest({method: req.method, url: req.url, headers, ...(req.body !== undefined ? {body: req.body} : {})}, {
    privateKey: identity.privateKey,
    keyId: options.keyId ?? (profile === 'scenario' ? 'device-key' : identity.spkiSha256),
    alg: identity.alg,
    label: profile === 'proxy' ? 'sig' : 'sig1',
    includeAlg: profile === 'spec' || identity.announceAlg,
    ...(options.created !== undefined ? {created: options.created} : {}),
    components: profileComponents(profile, hasBody, options.omitDigest),
  })
  const out = {...headers, ...signed}
  if (options.omitDigest) delete out['content-digest']
  return {...req, headers: out}
}

/**
 * Breaks a signature the way the wfm-core runner does: one base64 character in the middle of the
 * `Signature` value is swapped (A↔B, anything else → A), so the value still parses.
 */
export function flipSignatureByte(headers: Record<string, string>): Record<string, string> {
  const value = headers['signature']
  if (!value) return headers
  const m = /^([^=]+=:)([A-Za-z0-9+/=]+)(:.*)$/.exec(value)
  if (!m) return headers
  const [, head, b64, tail] = m as unknown as [string, string, string, string]
  const payload = b64.replace(/=+$/, '')
  const i = Math.floor(payload.length / 2)
  const c = payload[i]
  const flipped = c === 'A' ? 'B' : 'A'
  return {...headers, signature: `${head}${b64.slice(0, i)}${flipped}${b64.slice(i + 1)}${tail}`}
}
