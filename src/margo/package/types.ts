/** The normalised, validated ApplicationDescription the catalog works with (spec §3.2). */

export type ProfileType = 'helm.v3' | 'compose'

export type DataType =
  | 'string'
  | 'integer'
  | 'double'
  | 'boolean'
  | 'array[string]'
  | 'array[integer]'
  | 'array[double]'
  | 'array[boolean]'

export type Scalar = string | number | boolean
export type ParamValue = Scalar | Scalar[]

/** `x-<name>-extensions` members, kept in document order with their free-form object values. */
export type Extensions = Record<string, Record<string, unknown>>

export interface HelmProperties {
  repository: string
  revision: string
  wait?: boolean
  timeout?: string
  [key: string]: unknown
}

export interface ComposeProperties {
  packageLocation: string
  keyLocation?: string
  wait?: boolean
  timeout?: string
  [key: string]: unknown
}

export interface Component {
  name: string
  /** Every property in document order; the known ones normalised (revision as string, wait as boolean). */
  properties: HelmProperties | ComposeProperties
  /** Device-targeted extensions, copied verbatim into deployments. */
  extensions: Extensions
}

export type Architecture = 'amd64' | 'arm64' | 'arm' | 'riscv64' | 'other'
export type PeripheralType = 'gpu' | 'display' | 'camera' | 'microphone' | 'speaker' | 'other'
export type InterfaceType = 'ethernet' | 'wifi' | 'cellular' | 'bluetooth' | 'usb' | 'canbus' | 'rs232' | 'other'

export interface RequiredResources {
  cpu?: {cores: number, architectures?: Architecture[]}
  /** Quantity as written, in the data-model spelling (`4Gi`); read with `readQuantity` in margo/quantity.ts. */
  memory?: string
  storage?: string
  peripherals?: {type: PeripheralType, manufacturer?: string, model?: string}[]
  interfaces?: {type: InterfaceType}[]
}

export interface DeploymentProfile {
  type: ProfileType
  id: string
  description?: string
  components: Component[]
  requiredResources?: RequiredResources
  extensions: Extensions
}

export interface ParameterTarget {
  pointer: string
  components: string[]
}

export interface Parameter {
  /** The default; absent when the description gives none. */
  value?: ParamValue
  targets: ParameterTarget[]
}

export interface Setting {
  parameter: string
  name: string
  description?: string
  immutable: boolean
  schema: string
}

export interface Section {
  name: string
  settings: Setting[]
}

export interface SchemaRule {
  name: string
  dataType: DataType
  allowEmpty?: boolean
  minLength?: number
  maxLength?: number
  regexMatch?: string
  minValue?: number
  maxValue?: number
  minPrecision?: number
  maxPrecision?: number
  multiselect?: boolean
  options?: Scalar[]
}

export interface Configuration {
  sections: Section[]
  schema: SchemaRule[]
}

export interface CatalogApplication {
  descriptionFile?: string
  icon?: string
  licenseFile?: string
  releaseNotes?: string
  site?: string
  tagline?: string
  tags?: string[]
}

export interface Metadata {
  id: string
  name: string
  description?: string
  version: string
  catalog: {
    application?: CatalogApplication
    author?: {name?: string, email?: string}[]
    organization: {name: string, site?: string}[]
  }
}

export interface ApplicationDescription {
  apiVersion: string
  kind: 'ApplicationDescription'
  metadata: Metadata
  deploymentProfiles: DeploymentProfile[]
  /** Empty when the description declares none. */
  parameters: Record<string, Parameter>
  configuration?: Configuration
  /** WFM-targeted root extensions: kept for the WFM, never sent to devices. */
  extensions: Extensions
}
