import {BUNDLE_MEDIA_TYPE} from '../../margo/media-types.ts'
import {sha256Digest} from '../../margo/digest.ts'
import type {Store} from '../store/store.ts'
import {buildBundle} from './bundle.ts'
import {renderManifest} from './manifest.ts'
import {planManifest} from './plan.ts'
import {clockWaitMs} from './version-floor.ts'

/** Longer than any wait the version bound needs unless the clock was set back; then issue anyway. */
const MAX_CLOCK_WAIT_MS = 50

/**
 * Bring a client's published manifest in line with its present deployments. Issues version 1
 * for a new client and a new version only when the set of (deploymentId, digest) changed, or
 * always with `force` (a restore re-announcing every manifest above its floor).
 * Must run inside the caller's transaction so the deployment change and the manifest that
 * announces it are written together.
 */
export function publishManifest(store: Store, clientId: string, now: string, options: {force?: boolean} = {}): {changed: boolean, manifestVersion: number} {
  const current = store.currentManifest(clientId)
  const present = store.listDeployments({clientId, desired: 'present'})
  const next = present.map(d => ({deploymentId: d.deploymentId, digest: d.digest}))
  const previous = current ? {manifestVersion: current.manifestVersion, entries: store.manifestEntries(clientId, current.manifestVersion)} : null
  const plan = planManifest(previous, next, {floor: store.manifestFloor(clientId), force: options.force ?? false})
  if (!plan.changed) return plan
  const wait = clockWaitMs(plan.manifestVersion, Date.now())
  if (wait > 0) Bun.sleepSync(Math.min(wait, MAX_CLOCK_WAIT_MS))

  const deployments = present.map(d => {
    const artifact = store.getArtifact(d.digest)
    if (!artifact) throw new Error(`artifact ${d.digest} of deployment ${d.deploymentId} is missing from the store`)
    return {deploymentId: d.deploymentId, yaml: artifact.bytes}
  })
  let bundle: {bytes: Uint8Array, digest: string} | null = null
  if (deployments.length > 0) {
    const bytes = buildBundle(deployments)
    bundle = {bytes, digest: sha256Digest(bytes)}
    store.putArtifact(bundle.digest, BUNDLE_MEDIA_TYPE, bytes, now)
  }
  const manifest = renderManifest({clientId, manifestVersion: plan.manifestVersion, deployments, bundle: bundle ? {bytes: bundle.bytes} : null})
  store.insertManifest(
    {clientId, manifestVersion: plan.manifestVersion, bytes: manifest.bytes, etag: manifest.etag, bundleDigest: bundle?.digest ?? null, createdAt: now},
    next,
  )
  store.pruneManifests(clientId)
  return plan
}

/**
 * After a restore: every known client's next version is at least `floor`, and every client that
 * holds a manifest is issued its current one again at that version, so a device that accepted
 * newer versions from the server before the restore takes the restored state as an update.
 * One transaction: a restore either re-announces every manifest or none.
 */
export function raiseVersionFloor(store: Store, floor: number, now: string): {clients: number} {
  return store.transaction(() => {
    const clients = store.raiseManifestFloors(floor)
    for (const clientId of clients) publishManifest(store, clientId, now, {force: true})
    return {clients: clients.length}
  })
}
