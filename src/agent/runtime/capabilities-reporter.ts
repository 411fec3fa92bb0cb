import {buildCapabilities, capabilitiesDigest, detectHost, type CapabilityOverrides, type HostFacts} from '../capabilities/index.ts'
import type {AgentContext} from './context.ts'
import {WfmResponseError, problemOf} from './errors.ts'

const FILE = 'capabilities.json'

interface Reported {
  clientId: string
  digest: string
  reportedAt: string
  /** A manifest the WFM refused as invalid is not sent again until it changes. */
  refused?: boolean
}

/**
 * Report capabilities: POST the first time for this clientId (the last step of onboarding,
 * CL-12), PUT whenever what is detected or configured changes (CL-13). Cheap to call often: it
 * only talks to the WFM when the canonical digest differs from the last one reported.
 */
export async function reportCapabilities(ctx: AgentContext, clientId: string, opts: {workloadDir: string, overrides: CapabilityOverrides, facts?: HostFacts}): Promise<'unchanged' | 'posted' | 'put' | 'refused'> {
  // Given facts stand in for the host: a simulated device describes a machine it is not on.
  const facts = opts.facts ?? await detectHost({workloadDir: opts.workloadDir})
  const manifest = buildCapabilities(facts, opts.overrides, {id: facts.hostname})
  const digest = capabilitiesDigest(manifest)
  const stored = ctx.state.readJson<Reported>(FILE)
  const known = stored?.clientId === clientId ? stored : null
  if (known?.digest === digest) return 'unchanged'
  const method = known && !known.refused ? 'PUT' : 'POST'
  const res = await ctx.client.reportCapabilities(manifest, method)
  if (res.status >= 200 && res.status < 300) {
    ctx.state.writeJson(FILE, {clientId, digest, reportedAt: ctx.now().toISOString()} satisfies Reported)
    ctx.log.info('capabilities.reported', {method, deviceId: manifest.properties.id})
    return method === 'POST' ? 'posted' : 'put'
  }
  const err = new WfmResponseError(res.status, res.retryAfter, problemOf(res.body), 'capabilities report')
  if (err.retryable || res.status === 401 || res.status === 403 || res.status === 404) throw err
  ctx.log.error('capabilities.refused', {status: res.status, detail: err.problem?.detail, hint: 'check the capabilities section of the agent configuration'})
  ctx.state.writeJson(FILE, {clientId, digest, reportedAt: ctx.now().toISOString(), refused: true} satisfies Reported)
  return 'refused'
}
