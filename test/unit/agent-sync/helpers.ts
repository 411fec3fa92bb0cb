import {gzipSync} from 'node:zlib'
import {pack, type Header} from 'tar-stream'
import {sha256Digest} from '../../../src/margo/digest.ts'
import type {DeploymentRef, StateManifest} from '../../../src/margo/manifest.ts'

export const ID_A = 'a3e2f5dc-912e-494f-8395-52cf3769bc06'
export const ID_B = 'ad9b614e-8912-45f4-a523-372358765def'
export const ID_C = 'b7f1c3a0-1a2b-4c3d-9e5f-6a7b8c9d0e1a'

export function deploymentYaml(id: string, revision = '1.0.0'): Uint8Array {
  return new TextEncoder().encode(`apiVersion: application.margo.org/v1alpha1
kind: ApplicationDeployment
metadata:
  annotations:
    id: ${id}
  name: app-${id.slice(0, 8)}
spec:
  deploymentProfile:
    type: helm.v3
    components:
      - name: db
        properties:
          repository: oci://example.com/charts/db
          revision: ${revision}
      - name: web
        properties:
          repository: oci://example.com/charts/web
          revision: ${revision}
`)
}

export function ref(id: string, yaml: Uint8Array, sizeBytes?: number): DeploymentRef {
  const digest = sha256Digest(yaml)
  return {deploymentId: id, digest, url: `/api/v1/clients/c1/deployments/${id}/${digest}`, ...(sizeBytes !== undefined && {sizeBytes})}
}

export interface Entry {
  name: string
  bytes?: Uint8Array
  type?: Header['type']
  linkname?: string
}

export async function tarGz(entries: Entry[]): Promise<Uint8Array> {
  const p = pack()
  const chunks: Uint8Array[] = []
  const collected = (async () => {
    for await (const chunk of p as AsyncIterable<Uint8Array>) chunks.push(chunk)
  })()
  for (const e of entries) {
    const type = e.type ?? 'file'
    if (type === 'file') p.entry({name: e.name, mtime: new Date(0)}, Buffer.from(e.bytes ?? new Uint8Array()))
    else p.entry({name: e.name, type, linkname: e.linkname, mtime: new Date(0)})
  }
  p.finalize()
  await collected
  return new Uint8Array(gzipSync(Buffer.concat(chunks)))
}

export function manifestWith(version: number, refs: DeploymentRef[], bundle: Uint8Array | null, bundleSize?: number): StateManifest {
  if (refs.length === 0) return {manifestVersion: version, bundle: null, deployments: []}
  const digest = sha256Digest(bundle ?? new Uint8Array([0]))
  return {
    manifestVersion: version,
    bundle: {mediaType: 'application/vnd.margo.bundle.v1+tar+gzip', digest, url: `/api/v1/clients/c1/bundles/${digest}`, ...(bundleSize !== undefined && {sizeBytes: bundleSize})},
    deployments: refs,
  }
}
