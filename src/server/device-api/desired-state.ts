import {parseDigest} from '../../margo/digest.ts'
import {MANIFEST_MEDIA_TYPE, YAML_MEDIA_TYPE, negotiate} from '../../margo/media-types.ts'
import {authenticateClient} from './auth.ts'
import type {DeviceApiContext} from './context.ts'
import {ifNoneMatchHits, problemResponse} from './http.ts'

const EMPTY = new Uint8Array(0)

/** The manifest changes over time: revalidate on every use; `private` keeps shared caches out. */
const MANIFEST_CACHE_CONTROL = 'private, no-cache'
/** Content-addressed bytes never change. `private` because a YAML may carry parameter secrets and shared caches skip signature checks. */
const IMMUTABLE_CACHE_CONTROL = 'private, max-age=31536000, immutable'

/** E5: the state manifest, served as the exact stored bytes with a strong ETag over them. */
export async function getManifest(ctx: DeviceApiContext, request: Request, clientId: string): Promise<Response> {
  const auth = await authenticateClient(ctx, request, EMPTY, clientId)
  if (!auth.ok) return auth.response
  if (!negotiate(request.headers.get('accept'), MANIFEST_MEDIA_TYPE)) {
    return problemResponse('server-cannot-generate-response', `Server cannot generate a response for Accept: ${request.headers.get('accept')}; ask for ${MANIFEST_MEDIA_TYPE}.`)
  }
  const etag = ctx.store.currentManifestEtag(clientId)
  if (etag && ifNoneMatchHits(request.headers.get('if-none-match'), etag)) {
    return new Response(null, {status: 304, headers: {etag, 'cache-control': MANIFEST_CACHE_CONTROL}})
  }
  const manifest = ctx.store.currentManifest(clientId)
  if (!manifest) {
    // Every onboarded client gets manifest 1 in the onboarding transaction; reaching this is a server fault.
    throw new Error(`client ${clientId} has no manifest`)
  }
  return new Response(manifest.bytes, {
    status: 200,
    headers: {'content-type': MANIFEST_MEDIA_TYPE, etag: manifest.etag, 'cache-control': MANIFEST_CACHE_CONTROL},
  })
}

function contentAddressed(request: Request, digest: string, mediaType: string, bytes: Uint8Array, vary: boolean): Response {
  const etag = `"${digest}"`
  const headers: Record<string, string> = {etag, 'cache-control': IMMUTABLE_CACHE_CONTROL}
  if (vary) headers.vary = 'Accept-Encoding'
  if (ifNoneMatchHits(request.headers.get('if-none-match'), etag)) return new Response(null, {status: 304, headers})
  return new Response(bytes, {status: 200, headers: {...headers, 'content-type': mediaType}})
}

/** E6: one ApplicationDeployment YAML, by deploymentId and digest, byte for byte. */
export async function getDeploymentYaml(ctx: DeviceApiContext, request: Request, clientId: string, deploymentId: string, digest: string): Promise<Response> {
  const auth = await authenticateClient(ctx, request, EMPTY, clientId)
  if (!auth.ok) return auth.response
  const artifact = parseDigest(digest).ok && ctx.store.hasDeploymentArtifact(clientId, deploymentId, digest) ? ctx.store.getArtifact(digest) : null
  if (!artifact) {
    return problemResponse('deployment-not-found', `Deployment not found for digest ${digest} (deployment ${deploymentId}). This says nothing about removal: only the manifest decides that.`)
  }
  // Vary is sent on every YAML answer: compression may be applied by a proxy in front.
  return contentAddressed(request, digest, YAML_MEDIA_TYPE, artifact.bytes, true)
}

/** E7: the bundle of all of a manifest's YAMLs, by digest. */
export async function getBundle(ctx: DeviceApiContext, request: Request, clientId: string, digest: string): Promise<Response> {
  const auth = await authenticateClient(ctx, request, EMPTY, clientId)
  if (!auth.ok) return auth.response
  const artifact = parseDigest(digest).ok && ctx.store.hasBundle(clientId, digest) ? ctx.store.getArtifact(digest) : null
  if (!artifact) {
    return problemResponse('invalid-bundle', `Bundle not found for digest ${digest}.`)
  }
  return contentAddressed(request, digest, artifact.mediaType, artifact.bytes, false)
}
