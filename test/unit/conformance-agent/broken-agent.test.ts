import {describe, expect, test} from 'bun:test'
import {rmSync} from 'node:fs'
import {join} from 'node:path'
import {DeviceClient, parseOnboardingResponse} from '../../../src/agent/device-client.ts'
import {createSimulatedDrivers} from '../../../src/agent/drivers/simulated.ts'
import {ensureIdentity} from '../../../src/agent/identity.ts'
import {reportCapabilities} from '../../../src/agent/runtime/capabilities-reporter.ts'
import type {AgentContext} from '../../../src/agent/runtime/context.ts'
import {Reconciler} from '../../../src/agent/runtime/reconciler.ts'
import {flushOutbox} from '../../../src/agent/runtime/status-sender.ts'
import {syncOnce} from '../../../src/agent/runtime/sync-cycle.ts'
import {loadAccepted} from '../../../src/agent/state/accepted.ts'
import {Outbox} from '../../../src/agent/state/outbox.ts'
import {ACCEPTED_FILE, StateDir} from '../../../src/agent/state/state-dir.ts'
import {WorkloadStore} from '../../../src/agent/state/workloads.ts'
import {resolveTrust} from '../../../src/agent/trust.ts'
import {AGENT_SUITE_FILES, mockMaterial} from '../../../src/conformance/agent/mock-wfm.ts'
import {runAgentConformance, type AgentLauncher} from '../../../src/conformance/agent/run.ts'
import {conformanceSuites} from '../../shared.ts'

/**
 * margo's own agent parts (signed client, sync cycle, reconciler, status sender, simulated
 * drivers) with one defect: whenever it sees a manifestVersion lower than the one it adopted,
 * it forgets what it adopted, so the next poll takes the lower version as a first sync.
 */
const forgetfulAgent: AgentLauncher = async ({server, caFile, stateDir, signal, log}) => {
  const identity = await ensureIdentity(stateDir, {keyType: 'p256'})
  const trust = await resolveTrust(stateDir, {server, caFile})
  const client = new DeviceClient({server, caPem: trust.caPem, privateKey: identity.privateKey, alg: identity.alg, signal})
  const onboarded = parseOnboardingResponse((await client.onboard(identity.certPem)).body)
  if (!onboarded.ok) throw new Error(onboarded.reason)
  client.clientId = onboarded.clientId
  const state = new StateDir(stateDir)
  const getManifest = client.getManifest.bind(client)
  client.getManifest = async etag => {
    const res = await getManifest(etag)
    const adopted = loadAccepted(state)
    if (res.status === 200 && adopted && JSON.parse(new TextDecoder().decode(res.body)).manifestVersion < adopted.manifestVersion) rmSync(join(stateDir, ACCEPTED_FILE))
    return res
  }
  const ctx: AgentContext = {
    client, state, workloads: new WorkloadStore(state), outbox: new Outbox(state), drivers: createSimulatedDrivers(), log,
    now: () => new Date(), rng: Math.random, quiet: () => false,
    driverContext: () => ({workDir: join(stateDir, 'w'), binaries: {}, download: async () => new Uint8Array(), log}),
  }
  const reconciler = new Reconciler(ctx)
  await reportCapabilities(ctx, onboarded.clientId, {workloadDir: stateDir, overrides: {}})
  while (!signal.aborted) {
    await syncOnce(ctx)
    await reconciler.run(signal)
    await flushOutbox(ctx)
    await Bun.sleep(300)
  }
}

const suites = conformanceSuites('test/unit/conformance-agent/broken-agent.test.ts', AGENT_SUITE_FILES)

describe.skipIf(!suites)('a device agent that accepts a lower manifestVersion', () => {
  test('fails the rollback check, and the checks of what it does right still pass', async () => {
    const result = await runAgentConformance({material: mockMaterial(suites!), agent: forgetfulAgent, startTimeoutMs: 20_000, stepTimeoutMs: 15_000})
    const status = Object.fromEntries(result.verdict.checks.map(c => [c.id, c.status]))
    expect(result.verdict.passed).toBe(false)
    expect(status['fixture-rollback']).toBe('FAIL')
    expect(result.verdict.checks.find(c => c.id === 'fixture-rollback')!.detail).toContain('manifestVersion 1')
    for (const id of ['onboarding-body', 'signatures', 'capabilities-body', 'fixture-unsupported-digest', 'fixture-bundle-mismatch', 'fixture-deployment-mismatch', 'fixture-wrong-size', 'untrusted-listener']) {
      expect([id, status[id], result.verdict.checks.find(c => c.id === id)!.detail]).toEqual([id, 'PASS', expect.any(String)])
    }
  }, 120_000)
})
