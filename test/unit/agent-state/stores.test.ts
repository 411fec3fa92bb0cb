import {describe, expect, test} from 'bun:test'
import {existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {loadAccepted, saveAccepted} from '../../../src/agent/state/accepted.ts'
import {Outbox} from '../../../src/agent/state/outbox.ts'
import {StateDir} from '../../../src/agent/state/state-dir.ts'
import {hostMayHaveChanged, WorkloadStore, type WorkloadRecord} from '../../../src/agent/state/workloads.ts'
import {buildStatusReport} from '../../../src/agent/sync/status-report.ts'
import {sha256Digest} from '../../../src/margo/digest.ts'
import {tempDir} from './helpers.ts'

const ID_A = 'a3e2f5dc-912e-494f-8395-52cf3769bc06'
const ID_B = 'ad9b614e-8912-45f4-a523-372358765def'
const MANIFEST = '{"manifestVersion":7,"bundle":null,"deployments":[]}'

describe('CL-27: accepted manifest', () => {
  test('survives a restart with its exact text, version and ETag', () => {
    const dir = tempDir()
    const etag = `"${sha256Digest(MANIFEST)}"`
    saveAccepted(new StateDir(dir), {manifestVersion: 7, etag, text: MANIFEST}, new Date('2026-06-01T00:00:00Z'))
    const loaded = loadAccepted(new StateDir(dir))
    expect(loaded).toEqual({manifestVersion: 7, etag, text: MANIFEST, acceptedAt: '2026-06-01T00:00:00.000Z', manifest: {manifestVersion: 7, bundle: null, deployments: []}})
  })

  test('nothing stored: null (first sync)', () => {
    expect(loadAccepted(new StateDir(tempDir()))).toBeNull()
  })

  test('a record whose text no longer matches its version or ETag is moved aside', () => {
    const dir = tempDir()
    const sd = new StateDir(dir)
    saveAccepted(sd, {manifestVersion: 8, etag: `"${sha256Digest(MANIFEST)}"`, text: MANIFEST})
    expect(loadAccepted(sd)).toBeNull()
    saveAccepted(sd, {manifestVersion: 7, etag: `"${sha256Digest('other')}"`, text: MANIFEST})
    expect(loadAccepted(sd)).toBeNull()
    expect(readdirSync(dir).filter(f => f.startsWith('accepted.json.corrupt-')).length).toBeGreaterThan(0)
    // an opaque ETag cannot be checked and is kept
    saveAccepted(sd, {manifestVersion: 7, etag: '"v7"', text: MANIFEST})
    expect(loadAccepted(sd)?.etag).toBe('"v7"')
  })
})

function record(id: string, overrides: Partial<WorkloadRecord> = {}): WorkloadRecord {
  return {
    deploymentId: id,
    digest: sha256Digest(`yaml ${id}`),
    profileType: 'helm.v3',
    components: [{name: 'db', state: 'installed'}],
    state: 'installed',
    intent: null,
    attempts: 0,
    nextAttemptAt: null,
    ...overrides,
  }
}

describe('workload records', () => {
  test('each put is durable: a fresh store sees it, intent and all', () => {
    const dir = tempDir()
    const store = new WorkloadStore(new StateDir(dir))
    const digest = sha256Digest('v2')
    store.put(record(ID_A, {state: 'installing', intent: {action: 'apply', digest, since: '2026-06-01T00:00:00Z'}, attempts: 1}))
    const reopened = new WorkloadStore(new StateDir(dir))
    expect(reopened.get(ID_A)?.intent).toEqual({action: 'apply', digest, since: '2026-06-01T00:00:00Z'})
    expect(reopened.get(ID_A.toUpperCase())?.state).toBe('installing')
    expect(reopened.all().length).toBe(1)
  })

  test('returned records are copies: changing one does not change the store', () => {
    const store = new WorkloadStore(new StateDir(tempDir()))
    store.put(record(ID_A))
    store.get(ID_A)!.components.push({name: 'x', state: 'failed'})
    expect(store.get(ID_A)!.components.length).toBe(1)
  })

  test('invalid records are refused on put and dropped alone on load', () => {
    const dir = tempDir()
    const store = new WorkloadStore(new StateDir(dir))
    expect(() => store.put({...record(ID_A), state: 'done' as never})).toThrow()
    expect(() => store.put({...record('not-a-uuid')})).toThrow()
    store.put(record(ID_A))
    store.put(record(ID_B))
    const file = JSON.parse(readFileSync(join(dir, 'workloads.json'), 'utf8'))
    file.workloads[ID_B].digest = 'md5:abc'
    writeFileSync(join(dir, 'workloads.json'), JSON.stringify(file))
    const reopened = new WorkloadStore(new StateDir(dir))
    expect(reopened.all().map(r => r.deploymentId)).toEqual([ID_A])
    expect(readdirSync(dir).some(f => f.startsWith('workloads.json.corrupt-'))).toBe(true)
    expect(new WorkloadStore(new StateDir(dir)).all().length).toBe(1)
  })

  test('whether the host was ever changed is kept; a record without it counts as changed', () => {
    const dir = tempDir()
    const store = new WorkloadStore(new StateDir(dir))
    expect(() => store.put(record(ID_A, {hostChanged: 'yes' as never}))).toThrow()
    store.put(record(ID_A, {state: 'failed', hostChanged: false}))
    store.put(record(ID_B))
    const reopened = new WorkloadStore(new StateDir(dir))
    expect(hostMayHaveChanged(reopened.get(ID_A))).toBe(false)
    expect(hostMayHaveChanged(reopened.get(ID_B))).toBe(true)
    expect(hostMayHaveChanged(null)).toBe(false)
  })

  test('a corrupt workloads file starts an empty store', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'workloads.json'), '\0\0\0')
    expect(new WorkloadStore(new StateDir(dir)).all()).toEqual([])
  })

  test('YAMLs are stored as exact bytes, checked on load, and pruned', () => {
    const dir = tempDir()
    const store = new WorkloadStore(new StateDir(dir))
    const v1 = new TextEncoder().encode('a: 1\r\n')
    const v2 = new TextEncoder().encode('a: 2\n')
    const d1 = sha256Digest(v1), d2 = sha256Digest(v2)
    store.put(record(ID_A, {digest: d1}))
    store.saveYaml(ID_A, d1, v1)
    store.saveYaml(ID_A, d2, v2)
    expect(() => store.saveYaml(ID_A, d1, v2)).toThrow()
    expect(store.loadYaml(ID_A, d1)).toEqual(v1)
    expect(store.loadYaml(ID_A, sha256Digest('never stored'))).toBeNull()
    store.pruneYamls(ID_A, d2)
    expect(store.loadYaml(ID_A, d1)).toBeNull()
    expect(store.loadYaml(ID_A, d2)).toEqual(v2)
    // a damaged copy reads as absent
    const path = join(dir, 'artifacts', ID_A, `${d2.slice(7)}.yaml`)
    writeFileSync(path, 'a: 3\n')
    expect(store.loadYaml(ID_A, d2)).toBeNull()
    expect(existsSync(path)).toBe(false)
  })

  test('delete forgets the record and its YAMLs; YAMLs without a record are swept on start', () => {
    const dir = tempDir()
    const store = new WorkloadStore(new StateDir(dir))
    const bytes = new TextEncoder().encode('x: 1\n')
    store.put(record(ID_A, {digest: sha256Digest(bytes)}))
    store.saveYaml(ID_A, sha256Digest(bytes), bytes)
    store.saveYaml(ID_B, sha256Digest(bytes), bytes)
    const reopened = new WorkloadStore(new StateDir(dir))
    expect(reopened.loadYaml(ID_B, sha256Digest(bytes))).toBeNull()
    expect(reopened.loadYaml(ID_A, sha256Digest(bytes))).toEqual(bytes)
    reopened.delete(ID_A)
    expect(reopened.get(ID_A)).toBeNull()
    expect(existsSync(join(dir, 'artifacts', ID_A))).toBe(false)
    expect(new WorkloadStore(new StateDir(dir)).all()).toEqual([])
  })

  test('ids are checked before they become paths', () => {
    const store = new WorkloadStore(new StateDir(tempDir()))
    expect(() => store.saveYaml('../../etc', sha256Digest('x'), new TextEncoder().encode('x'))).toThrow()
    expect(() => store.loadYaml(ID_A, 'sha256:../../x')).toThrow()
  })

  test('a leftover temporary of a YAML is swept on start', () => {
    const dir = tempDir()
    const store = new WorkloadStore(new StateDir(dir))
    store.put(record(ID_A))
    mkdirSync(join(dir, 'artifacts', ID_A), {recursive: true})
    const torn = join(dir, 'artifacts', ID_A, 'abc.yaml.tmp-999999-1')
    writeFileSync(torn, 'partial')
    new WorkloadStore(new StateDir(dir))
    expect(existsSync(torn)).toBe(false)
  })
})

describe('A31: status outbox', () => {
  const installing = buildStatusReport(ID_A, [{name: 'db', state: 'installing'}])
  const installed = buildStatusReport(ID_A, [{name: 'db', state: 'installed'}])
  const removing = buildStatusReport(ID_B, [{name: 'web', state: 'removing'}])

  test('only the latest report per deployment is kept, in state-change order', () => {
    const box = new Outbox(new StateDir(tempDir()))
    box.put(installing)
    box.put(removing)
    box.put(installed)
    expect(box.pending().map(e => [e.seq, e.deploymentId, e.report.status.state])).toEqual([[2, ID_B, 'removing'], [3, ID_A, 'installed']])
  })

  test('an ack removes the report it names, not one that replaced it meanwhile', () => {
    const box = new Outbox(new StateDir(tempDir()))
    const first = box.put(installing)
    const second = box.put(installed)
    expect(box.ack(ID_A, first)).toBe(false)
    expect(box.pending().map(e => e.seq)).toEqual([second])
    expect(box.ack(ID_A, second)).toBe(true)
    expect(box.pending()).toEqual([])
    expect(box.ack(ID_A, second)).toBe(false)
  })

  test('reports and the sequence survive restarts; numbers never repeat', () => {
    const dir = tempDir()
    const box = new Outbox(new StateDir(dir))
    box.put(installing)
    const seq = box.put(removing)
    box.ack(ID_B, seq)
    const reopened = new Outbox(new StateDir(dir))
    expect(reopened.pending().map(e => [e.seq, e.report])).toEqual([[1, installing]])
    expect(reopened.put(installed)).toBe(3)
  })

  test('an identical report keeps its number and needs no write', () => {
    const box = new Outbox(new StateDir(tempDir()))
    const seq = box.put(installing)
    expect(box.put(buildStatusReport(ID_A, [{name: 'db', state: 'installing'}]))).toBe(seq)
  })

  test('a corrupt outbox starts empty; an invalid report is dropped', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'outbox.json'), 'nonsense')
    expect(new Outbox(new StateDir(dir)).pending()).toEqual([])
    writeFileSync(join(dir, 'outbox.json'), JSON.stringify({format: 1, seq: 9, entries: [{seq: 9, deploymentId: ID_A, report: {kind: 'x'}}]}))
    const box = new Outbox(new StateDir(dir))
    expect(box.pending()).toEqual([])
    expect(box.put(installing)).toBe(10)
  })

  test('the outbox is bounded: the oldest reports give way', () => {
    const box = new Outbox(new StateDir(tempDir()), 1)
    box.put(installing)
    box.put(removing)
    expect(box.pending().map(e => e.deploymentId)).toEqual([ID_B])
  })
})
