export {
  CAPABILITIES_API_VERSION,
  DEFAULT_ROLES,
  buildCapabilities,
  capabilitiesDigest,
  formatBinaryQuantity,
  type CapabilitiesManifest,
  type CapabilityOverrides,
  type HostFacts,
  type PeripheralOverride,
} from './build.ts'
export {architectureOf, detectHost, interfaceTypeOf, type DetectOptions} from './detect.ts'
