import {describe, expect, test} from 'bun:test'
import {loadAccepted, saveAccepted} from '../../../src/agent/state/accepted.ts'
import {MemoryState} from '../../../src/agent/state/memory-state.ts'
import {Outbox} from '../../../src/agent/state/outbox.ts'
import {WorkloadStore} from '../../../src/agent/state/workloads.ts'
import {buildStatusReport} from '../../../src/agent/sync/status-report.ts'
import {sha256Digest} from '../../../src/margo/digest.ts'

const ID = 'a3e2f5dc-912e-494f-8395-52cf3769bc06'
const MANIFEST = '{"manifestVersion":7,"bundle":null,"deployments":[]}'

describe('MemoryState: the agent stores without a state directory', () => {
  test('accepted manifest, outbox and workload records round-trip', () => {
    const state = new MemoryState()
    saveAccepted(state, {manifestVersion: 7, etag: `"${sha256Digest(MANIFEST)}"`, text: MANIFEST})
    expect(loadAccepted(state)?.manifestVersion).toBe(7)

    const outbox = new Outbox(state)
    outbox.put(buildStatusReport(ID, [{name: 'web', state: 'installed'}]))
    expect(new Outbox(state).pending().map(e => e.deploymentId)).toEqual([ID])

    const yaml = new TextEncoder().encode('kind: ApplicationDeployment\n')
    const digest = sha256Digest(yaml)
    const workloads = new WorkloadStore(state)
    workloads.saveYaml(ID, digest, yaml)
    workloads.put({deploymentId: ID, digest, profileType: 'compose', components: [], state: 'installed', intent: null, attempts: 0, nextAttemptAt: null})
    const again = new WorkloadStore(state)
    expect(again.get(ID)?.state).toBe('installed')
    expect(again.loadYaml(ID, digest)).toEqual(yaml)
  })

  test('a forgotten deployment takes its YAMLs along; orphans are swept on open', () => {
    const state = new MemoryState()
    const yaml = new TextEncoder().encode('a: 1\n')
    const digest = sha256Digest(yaml)
    const workloads = new WorkloadStore(state)
    workloads.saveYaml(ID, digest, yaml)
    expect(state.list('artifacts')).toEqual([ID])
    new WorkloadStore(state)
    expect(state.list('artifacts')).toEqual([])
    workloads.saveYaml(ID, digest, yaml)
    workloads.put({deploymentId: ID, digest, profileType: 'compose', components: [], state: 'installed', intent: null, attempts: 0, nextAttemptAt: null})
    workloads.delete(ID)
    expect(state.isFolder(`artifacts/${ID}`)).toBe(false)
  })

  test('reads never alias what was written, and names cannot escape the root', () => {
    const state = new MemoryState()
    const doc = {a: [1]}
    state.writeJson('x.json', doc)
    doc.a.push(2)
    expect(state.readJson('x.json')).toEqual({a: [1]})
    expect(() => state.writeJson('../x.json', {})).toThrow(/escapes/)
  })
})
