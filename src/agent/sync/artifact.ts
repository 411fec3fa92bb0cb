import {parseApplicationDeployment, type ApplicationDeployment} from '../../margo/deployment.ts'
import {sha256Digest, verifyDigest} from '../../margo/digest.ts'
import type {Result} from '../../margo/result.ts'

/**
 * The `field` of the error returned when the bytes do not hash to the expected digest. That
 * failure means the transfer or the server is at fault and must abort the whole update
 * (CL-21); any other error means the WFM published a bad document.
 */
export const DIGEST_MISMATCH_FIELD = 'digest'

/**
 * Checks one fetched ApplicationDeployment YAML against its manifest entry: the digest over
 * the exact bytes first (CL-20/21, nothing is parsed before it matches), then the document,
 * then that the id it carries (`metadata.annotations.id`, else a top-level `id`) is the
 * deploymentId it was fetched for.
 */
export function checkDeploymentYaml(bytes: Uint8Array, ref: {deploymentId: string, digest: string}): Result<ApplicationDeployment> {
  if (!verifyDigest(bytes, ref.digest)) {
    return {ok: false, errors: [{field: DIGEST_MISMATCH_FIELD, message: `expected ${ref.digest}, got ${sha256Digest(bytes)}`}]}
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true}).decode(bytes)
  } catch {
    return {ok: false, errors: [{field: '', message: 'is not valid UTF-8'}]}
  }
  const parsed = parseApplicationDeployment(text)
  if (!parsed.ok) return parsed
  const id = parsed.value.metadata.annotations.id
  if (id.toLowerCase() !== ref.deploymentId.toLowerCase()) {
    return {ok: false, errors: [{field: 'metadata.annotations.id', message: `must equal the manifest's deploymentId ${ref.deploymentId}, got ${id}`}]}
  }
  return parsed
}
