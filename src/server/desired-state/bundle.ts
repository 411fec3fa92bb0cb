import {isUuid} from '../../margo/uuid.ts'
import {writeTarGz} from '../../util/tar.ts'

export interface BundleEntry {
  deploymentId: string
  /** The exact bytes the individual YAML endpoint serves, so each entry hashes to its manifest digest. */
  yaml: Uint8Array
}

/**
 * The deployment bundle: a gzip-compressed tar holding `<deploymentId>.yaml` for each
 * deployment at the archive root. The same set of YAMLs always yields the same bytes (entries
 * sorted by name, fixed headers, gzip header mtime 0), so the bundle digest only moves when
 * content does. An empty archive must never be served, hence the refusal.
 */
export function buildBundle(entries: readonly BundleEntry[]): Uint8Array {
  if (entries.length === 0) throw new Error('a bundle needs at least one deployment')
  const seen = new Set<string>()
  const files = entries.map(({deploymentId, yaml}) => {
    // The id becomes a file name: anything but a UUID could smuggle in a path.
    if (!isUuid(deploymentId)) throw new Error(`deploymentId is not a UUID: ${JSON.stringify(deploymentId)}`)
    if (seen.has(deploymentId.toLowerCase())) throw new Error(`deployment ${deploymentId} appears twice`)
    seen.add(deploymentId.toLowerCase())
    return {path: `${deploymentId}.yaml`, bytes: yaml}
  })
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  // Node writes a zero mtime and no file name into the gzip header, so the output depends on the input only.
  return writeTarGz(files)
}
