/**
 * How a Margo application package is laid out in an OCI registry (spec §3.3): one image
 * manifest per version, marked by its artifactType, with the empty config, one layer holding the
 * ApplicationDescription and one layer per catalog resource.
 */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'

export const MARGO_APP_ARTIFACT = 'application/vnd.margo.app.v1+json'
export const MARGO_DESCRIPTION_LAYER = 'application/vnd.margo.app.description.v1+yaml'

/** The OCI "empty" descriptor: the two bytes `{}`. */
export const EMPTY_CONFIG = {
  mediaType: 'application/vnd.oci.empty.v1+json',
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
} as const
export const EMPTY_CONFIG_BYTES = new TextEncoder().encode('{}')

export const TITLE_ANNOTATION = 'org.opencontainers.image.title'
export const VERSION_ANNOTATION = 'org.opencontainers.image.version'
export const RESOURCE_ANNOTATION = 'org.margo.app.resource'

/** The catalog resources a description may reference, each published as its own layer. */
export const RESOURCE_KEYS = ['descriptionFile', 'icon', 'licenseFile', 'releaseNotes'] as const
export type ResourceKey = (typeof RESOURCE_KEYS)[number]

/** Value of the resource annotation: the dotted path of the field that references the file. */
export const resourceAnnotation = (key: ResourceKey) => `metadata.catalog.application.${key}`

export function resourceKeyOfAnnotation(value: string | undefined): ResourceKey | undefined {
  if (value === undefined) return undefined
  return RESOURCE_KEYS.find(k => resourceAnnotation(k) === value || k === value)
}

/** `application/vnd.margo.app.icon.v1+png` for `resources/icon.png`; the format is the file extension. */
export function resourceMediaType(key: ResourceKey, path: string): string {
  const name = path.split('/').pop() ?? path
  const dot = name.lastIndexOf('.')
  const ext = dot > 0 ? name.slice(dot + 1).toLowerCase() : ''
  const format = /^[a-z0-9][a-z0-9.-]{0,31}$/.test(ext) ? ext : 'octet-stream'
  return `application/vnd.margo.app.${key}.v1+${format}`
}

/** The resource key a layer media type names, e.g. `icon` for `application/vnd.margo.app.icon.v1+png`. */
export function resourceKeyOfMediaType(mediaType: string): ResourceKey | undefined {
  const m = /^application\/vnd\.margo\.app\.([A-Za-z]+)\.v1\+/.exec(mediaType)
  return m ? RESOURCE_KEYS.find(k => k === m[1]) : undefined
}
