/**
 * Pure mapping between a Margo application package and its OCI image manifest (spec §3.3).
 * Building gives the manifest bytes and every blob to upload; reading checks a fetched manifest
 * and says which layer is the description and which layers are resources.
 */
import {sha256Digest, DIGEST_PATTERN} from '../margo/digest.ts'
import {
  EMPTY_CONFIG, EMPTY_CONFIG_BYTES, MARGO_APP_ARTIFACT, MARGO_DESCRIPTION_LAYER, OCI_MANIFEST, RESOURCE_ANNOTATION,
  RESOURCE_KEYS, TITLE_ANNOTATION, VERSION_ANNOTATION, resourceAnnotation, resourceKeyOfAnnotation, resourceKeyOfMediaType,
  resourceMediaType, type ResourceKey,
} from './media-types.ts'

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  annotations?: Record<string, string>
  data?: string
}

export interface ImageManifest {
  schemaVersion: 2
  mediaType: string
  artifactType?: string
  config: Descriptor
  layers: Descriptor[]
  annotations?: Record<string, string>
}

export interface Blob {
  digest: string
  mediaType: string
  bytes: Uint8Array
}

/** What a package contributes to its artifact: the description as written and the files it references. */
export interface PackageForArtifact {
  descriptionFile: string
  descriptionSource: string
  version: string
  /** Paths the description references from `metadata.catalog.application`, by key. */
  references: Partial<Record<ResourceKey, string>>
  resources: readonly {path: string, bytes: Uint8Array}[]
}

export interface Artifact {
  manifest: ImageManifest
  manifestBytes: Uint8Array
  manifestDigest: string
  /** The config blob first, then the layers in manifest order. */
  blobs: Blob[]
}

/**
 * The artifact of one package version. Only referenced resources become layers (other files of
 * the package have no place in the layout); a file referenced under two keys is one blob with
 * two layers.
 */
export function buildArtifact(pkg: PackageForArtifact): Artifact {
  const descriptionBytes = new TextEncoder().encode(pkg.descriptionSource)
  const blobs: Blob[] = [{digest: EMPTY_CONFIG.digest, mediaType: EMPTY_CONFIG.mediaType, bytes: EMPTY_CONFIG_BYTES}]
  const layers: Descriptor[] = []
  const add = (mediaType: string, bytes: Uint8Array, annotations: Record<string, string>) => {
    const digest = sha256Digest(bytes)
    layers.push({mediaType, digest, size: bytes.length, annotations})
    if (!blobs.some(b => b.digest === digest)) blobs.push({digest, mediaType, bytes})
  }
  add(MARGO_DESCRIPTION_LAYER, descriptionBytes, {[TITLE_ANNOTATION]: pkg.descriptionFile})
  for (const key of RESOURCE_KEYS) {
    const path = pkg.references[key]
    if (path === undefined) continue
    const file = pkg.resources.find(r => r.path === path)
    if (!file) throw new RangeError(`metadata.catalog.application.${key} names ${path}, which is not in the package`)
    add(resourceMediaType(key, path), file.bytes, {[RESOURCE_ANNOTATION]: resourceAnnotation(key), [TITLE_ANNOTATION]: path})
  }
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: MARGO_APP_ARTIFACT,
    config: {...EMPTY_CONFIG},
    layers,
    annotations: {[VERSION_ANNOTATION]: pkg.version},
  }
  const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest))
  return {manifest, manifestBytes, manifestDigest: sha256Digest(manifestBytes), blobs}
}

export interface ResourceLayer {
  key: ResourceKey
  /** Where the file goes in the package: its title annotation when safe, else `resources/<key>`. */
  title: string | undefined
  descriptor: Descriptor
}

export type ManifestReading =
  | {kind: 'margo-app', manifest: ImageManifest, description: Descriptor, descriptionFile: string, resources: ResourceLayer[]}
  /** Not a Margo application package (an image, an index, another artifact type): skipped, not an error. */
  | {kind: 'other', reason: string}
  | {kind: 'invalid', reason: string}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function descriptor(v: unknown, where: string): Descriptor | string {
  if (!isObject(v)) return `${where} is not an object`
  const {mediaType, digest, size, annotations} = v
  if (typeof mediaType !== 'string' || mediaType === '') return `${where}.mediaType is missing`
  if (typeof digest !== 'string' || !DIGEST_PATTERN.test(digest)) return `${where}.digest is not a sha256 digest`
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return `${where}.size is not a whole number`
  if (annotations !== undefined && (!isObject(annotations) || Object.values(annotations).some(a => typeof a !== 'string'))) {
    return `${where}.annotations is not a map of strings`
  }
  return {mediaType, digest, size, ...(annotations ? {annotations: annotations as Record<string, string>} : {})}
}

/** Reads a fetched manifest; `mediaType` is the Content-Type the registry answered with. */
export function readManifest(bytes: Uint8Array, mediaType?: string): ManifestReading {
  let doc: unknown
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    return {kind: 'invalid', reason: 'the manifest is not JSON'}
  }
  if (!isObject(doc)) return {kind: 'invalid', reason: 'the manifest is not a JSON object'}
  const type = typeof doc.mediaType === 'string' ? doc.mediaType : mediaType
  if (type !== OCI_MANIFEST) return {kind: 'other', reason: `manifest type ${type ?? 'unknown'}`}
  const config = descriptor(doc.config, 'config')
  if (typeof config === 'string') return {kind: 'invalid', reason: config}
  const artifactType = typeof doc.artifactType === 'string' ? doc.artifactType : config.mediaType
  if (artifactType !== MARGO_APP_ARTIFACT) return {kind: 'other', reason: `artifact type ${artifactType}`}
  if (!Array.isArray(doc.layers)) return {kind: 'invalid', reason: 'layers is not a list'}
  const layers: Descriptor[] = []
  for (const [i, l] of doc.layers.entries()) {
    const d = descriptor(l, `layers[${i}]`)
    if (typeof d === 'string') return {kind: 'invalid', reason: d}
    layers.push(d)
  }
  const descriptions = layers.filter(l => l.mediaType === MARGO_DESCRIPTION_LAYER)
  if (descriptions.length !== 1) {
    return {kind: 'invalid', reason: `the manifest has ${descriptions.length} layers of type ${MARGO_DESCRIPTION_LAYER}; exactly one is required`}
  }
  const description = descriptions[0]!
  const title = description.annotations?.[TITLE_ANNOTATION]
  const descriptionFile = title !== undefined && /^[^/\\]+\.ya?ml$/i.test(title) ? title : 'margo.yaml'
  const resources: ResourceLayer[] = []
  for (const l of layers) {
    if (l === description) continue
    // Layers of the older examples carry plain media types (text/markdown); the annotation decides.
    const key = resourceKeyOfAnnotation(l.annotations?.[RESOURCE_ANNOTATION]) ?? resourceKeyOfMediaType(l.mediaType)
    if (key === undefined) continue
    if (resources.some(r => r.key === key)) return {kind: 'invalid', reason: `the manifest has two layers for metadata.catalog.application.${key}`}
    resources.push({key, title: l.annotations?.[TITLE_ANNOTATION], descriptor: l})
  }
  return {
    kind: 'margo-app',
    manifest: {
      schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType, config, layers,
      ...(isObject(doc.annotations) ? {annotations: doc.annotations as Record<string, string>} : {}),
    },
    description, descriptionFile, resources,
  }
}
