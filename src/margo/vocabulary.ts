/** The closed value sets of the Margo documents, in their canonical spelling. */

export const DEVICE_ROLES = ['Standalone Cluster', 'Cluster Leader', 'Standalone Device'] as const
export type DeviceRole = (typeof DEVICE_ROLES)[number]
/** Spellings seen in the spec's own examples. */
export const DEVICE_ROLE_ALIASES: Readonly<Record<string, DeviceRole>> = {'cluster lead': 'Cluster Leader'}

export const ARCHITECTURES = ['amd64', 'arm64', 'arm', 'riscv64', 'other'] as const
export type Architecture = (typeof ARCHITECTURES)[number]
/** The capabilities doc lists `x86_64`; it names the same architecture as `amd64`. */
export const ARCHITECTURE_ALIASES: Readonly<Record<string, Architecture>> = {x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64'}

export const PERIPHERAL_TYPES = ['gpu', 'display', 'camera', 'microphone', 'speaker', 'other'] as const
export type PeripheralType = (typeof PERIPHERAL_TYPES)[number]

export const INTERFACE_TYPES = ['ethernet', 'wifi', 'cellular', 'bluetooth', 'usb', 'canbus', 'rs232', 'other'] as const
export type InterfaceType = (typeof INTERFACE_TYPES)[number]

/** Deployment profile types as the G1 ApplicationDeployment names them. */
export const PROFILE_TYPES = ['helm.v3', 'compose'] as const
export type ProfileType = (typeof PROFILE_TYPES)[number]
/** Later spec versions write `helm`; it is the same Helm v3 chart profile. */
export const PROFILE_TYPE_ALIASES: Readonly<Record<string, ProfileType>> = {helm: 'helm.v3'}

/** G1.5 capability vocabularies. `custom` is accepted but maps to no profile this implementation runs. */
export const SUPPORTED_DEPLOYMENT_TYPES = ['helm', 'helm.v3', 'compose', 'custom'] as const
export type SupportedDeploymentType = (typeof SUPPORTED_DEPLOYMENT_TYPES)[number]
export const SUPPORTED_RUNTIMES = ['oci', 'custom'] as const
export type SupportedRuntime = (typeof SUPPORTED_RUNTIMES)[number]

/** Which profile each role runs: Kubernetes roles take Helm charts, a standalone device takes Compose. */
export const ROLE_PROFILE: Readonly<Record<DeviceRole, ProfileType>> = {
  'Standalone Cluster': 'helm.v3',
  'Cluster Leader': 'helm.v3',
  'Standalone Device': 'compose',
}
