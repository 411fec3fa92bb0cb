/**
 * Set-ups the suites need from a WFM, arranged through the product's own operator API, never
 * through test back doors: a deployment every device gets (a rollout with an empty selector of a
 * small published app), the suite's deny-listed certificate value, and pre-registration of the
 * run's certificates when the WFM only admits known devices. Each arrangement reports whether
 * it is met, and records what it created in the run's ledger the moment it exists, so the undo
 * is exact even when a later step fails.
 */
import {parse as parseYaml, stringify} from 'yaml'
import {NotFoundError} from '../../util/errors.ts'
import type {OperatorClient} from '../../client/operator-client.ts'
import {createRollout} from '../../client/rollouts.ts'
import type {RunLedger} from './ledger.ts'

export const SAMPLE_COMPOSE_APP = 'conformance/device-supplier/sample-apps/app-a/compose.yaml'
export const CONFORMANCE_APP_ID = 'margo-conformance-sample-app-a'
export const CONFORMANCE_APP_VERSION = '1.0.0'
/** The component name in the suites' status reports (device-supplier step 3.7, portman). */
const SUITE_COMPONENT = 'app-component-1'

/** The sample app of a run without the Margo project's material: one small web service. */
export const OWN_SAMPLE_COMPOSE = 'services:\n  web:\n    image: nginx:alpine\n'

export interface Arrangement {
  /** e.g. `default-deployment`. */
  id: string
  met: boolean
  /** What was done, or why it could not be. */
  detail: string
}

/**
 * An ApplicationDescription for the suite's sample compose app. It offers a compose profile
 * (standalone devices) and a helm.v3 profile (cluster roles), so whatever roles a test device
 * reports, the WFM can keep one deployment on it. The package locations use the reserved
 * `.invalid` domain: the suites only fetch the deployment YAML, never the package. Its one
 * component is named as the suites' devices name it in their status reports, which must list
 * exactly the deployment's components.
 */
export function conformanceAppDescription(composeYaml: string): string {
  let services: string[] = []
  try {
    const doc = parseYaml(composeYaml) as {services?: Record<string, {image?: unknown}>} | null
    services = Object.entries(doc?.services ?? {}).map(([name, s]) => (typeof s?.image === 'string' ? `${name} (${s.image})` : name))
  } catch {
    services = []
  }
  const description = {
    apiVersion: 'margo.org/v1alpha1',
    kind: 'ApplicationDescription',
    metadata: {
      id: CONFORMANCE_APP_ID,
      name: 'Margo conformance sample app A',
      description: `The Margo conformance suites' sample compose app${services.length ? ` (services: ${services.join(', ')})` : ''}, published by margo conformance wfm so that every device starts with one deployment.`,
      version: CONFORMANCE_APP_VERSION,
      catalog: {
        application: {tagline: 'Default deployment for conformance runs.'},
        organization: [{name: 'Margo conformance'}],
      },
    },
    deploymentProfiles: [
      {
        type: 'compose',
        id: `${CONFORMANCE_APP_ID}-compose`,
        components: [{name: SUITE_COMPONENT, properties: {packageLocation: 'https://sample-apps.margo.invalid/app-a/compose.yaml'}}],
      },
      {
        type: 'helm.v3',
        id: `${CONFORMANCE_APP_ID}-helm`,
        components: [{name: SUITE_COMPONENT, properties: {repository: 'oci://sample-apps.margo.invalid/charts/sample-app-a', revision: '1.0.0'}}],
      },
    ],
  }
  return stringify(description, {version: '1.1'})
}

function missingEndpoint(err: unknown): boolean {
  return err instanceof NotFoundError
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** The name of the rollout a conformance run makes. */
export const CONFORMANCE_ROLLOUT_NAME = 'margo-conformance-run'

/** Publishes the conformance app and rolls it out to every device (an empty selector). */
export async function arrangeDefaultDeployment(client: OperatorClient, ledger: RunLedger, composeYaml: string): Promise<Arrangement> {
  const id = 'default-deployment'
  try {
    const published = await client.publishApp(conformanceAppDescription(composeYaml), 'application/yaml')
    if (published.created) ledger.app({appId: CONFORMANCE_APP_ID, version: CONFORMANCE_APP_VERSION})
  } catch (err) {
    return {id, met: false, detail: `could not publish the conformance app: ${message(err)}`}
  }
  let rolloutId: string
  try {
    // A name of its own: the default (the app id) could be an operator's rollout, which the run
    // would then update and its clean-up delete.
    const created = await createRollout(client, {name: CONFORMANCE_ROLLOUT_NAME, appId: CONFORMANCE_APP_ID, selector: ''})
    if (!created.rolloutId) return {id, met: false, detail: 'POST /operator/v1/rollouts answered without a rolloutId'}
    rolloutId = created.rolloutId
    ledger.rollout(rolloutId)
  } catch (err) {
    if (missingEndpoint(err)) return {id, met: false, detail: 'the server has no rollouts (POST /operator/v1/rollouts answered 404), so new clients cannot be given a deployment'}
    return {id, met: false, detail: `could not create the rollout: ${message(err)}`}
  }
  return {id, met: true, detail: `rollout ${rolloutId} gives every device ${CONFORMANCE_APP_ID} ${CONFORMANCE_APP_VERSION}`}
}

/** Puts each value on the WFM's deny-list (unless it is there already). */
export async function arrangeDenyList(client: OperatorClient, ledger: RunLedger, values: readonly string[]): Promise<Arrangement> {
  const id = 'deny-list'
  let existing: string[]
  try {
    existing = (await client.call<{entries: {value: string}[]}>('GET', '/denylist')).entries.map(e => e.value)
  } catch (err) {
    if (missingEndpoint(err)) return {id, met: false, detail: 'the server has no deny-list (GET /operator/v1/denylist answered 404)'}
    return {id, met: false, detail: `could not read the deny-list: ${message(err)}`}
  }
  const added: string[] = []
  for (const value of values) {
    if (existing.includes(value)) continue
    try {
      await client.call('POST', '/denylist', {body: {value}})
      ledger.deny(value)
      added.push(value)
    } catch (err) {
      return {id, met: false, detail: `could not deny-list ${value}: ${message(err)}`}
    }
  }
  return {id, met: true, detail: added.length ? `deny-listed ${added.join(', ')}` : `${values.join(', ')} already deny-listed`}
}

/** The WFM's enrolment policy, when its operator API says. */
export async function enrolmentPolicy(client: OperatorClient): Promise<'auto' | 'approve' | 'allowlist' | undefined> {
  try {
    const health = await client.health()
    const e = (health as {enrollment?: unknown}).enrollment
    return e === 'auto' || e === 'approve' || e === 'allowlist' ? e : undefined
  } catch {
    return undefined
  }
}

/** Admits the run's device certificates ahead of onboarding (allow-list or approval enrolment). */
export async function arrangePreregistration(client: OperatorClient, ledger: RunLedger, certificates: readonly string[]): Promise<Arrangement> {
  const id = 'preregistration'
  try {
    for (const pem of certificates) ledger.preregistration((await client.preregisterDevice(pem)).fingerprint)
    return {id, met: true, detail: `pre-registered ${certificates.length} device certificate${certificates.length === 1 ? '' : 's'} of this run`}
  } catch (err) {
    return {id, met: false, detail: `could not pre-register the run's certificates: ${message(err)}`}
  }
}
