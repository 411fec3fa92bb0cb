import {describe, expect, test} from 'bun:test'
import {mkdtempSync, readdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createSimulatedDrivers} from '../../../src/agent/drivers/simulated.ts'
import type {ComponentResult} from '../../../src/agent/types.ts'
import {parseApplicationDeployment} from '../../../src/margo/deployment.ts'
import {silentLogger} from '../../../src/util/log.ts'

const doc = parseApplicationDeployment(`apiVersion: margo.org/v1alpha1
kind: ApplicationDeployment
metadata:
  name: x
  annotations:
    id: b7f1c3a0-1a2b-4c3d-9e5f-6a7b8c9d0e1a
spec:
  deploymentProfile:
    type: compose
    components:
      - name: web
        properties: {packageLocation: "https://127.0.0.1:1/a/compose.yaml"}
      - name: cache
        properties: {packageLocation: "https://127.0.0.1:1/b/compose.yaml"}
`)

describe('simulated drivers', () => {
  test('report every component installing → installed, and removing → removed in reverse, touching nothing', async () => {
    if (!doc.ok) throw new Error(JSON.stringify(doc.errors))
    const workDir = mkdtempSync(join(tmpdir(), 'margo-simulated-'))
    const download = async (): Promise<Uint8Array> => { throw new Error('a simulated driver must not download') }
    const ctx = {workDir, binaries: {docker: '/nonexistent/docker'}, download, log: silentLogger}
    const seen: ComponentResult[] = []
    const {compose, 'helm.v3': helm} = createSimulatedDrivers()
    expect([compose.type, helm.type]).toEqual(['compose', 'helm.v3'])
    expect(await compose.apply(doc.value, ctx, r => seen.push(r))).toEqual([{name: 'web', state: 'installed'}, {name: 'cache', state: 'installed'}])
    expect(seen.map(r => `${r.name} ${r.state}`)).toEqual(['web installing', 'web installed', 'cache installing', 'cache installed'])
    seen.length = 0
    expect(await compose.remove(doc.value, ctx, r => seen.push(r))).toEqual([{name: 'web', state: 'removed'}, {name: 'cache', state: 'removed'}])
    expect(seen.map(r => `${r.name} ${r.state}`)).toEqual(['cache removing', 'cache removed', 'web removing', 'web removed'])
    expect(readdirSync(workDir)).toEqual([])
  })

  test('a behaviour can make an apply take time and fail its last component with SIMULATED_FAILURE', async () => {
    if (!doc.ok) throw new Error(JSON.stringify(doc.errors))
    const ctx = {workDir: '/nonexistent', binaries: {}, download: async () => new Uint8Array(), log: silentLogger}
    const asked: string[] = []
    const {compose} = createSimulatedDrivers({
      applyTimeMs: id => { asked.push(id); return 60 },
      failure: () => 'simulated: the image pull was refused',
    })
    const started = performance.now()
    const results = await compose.apply(doc.value, ctx)
    expect(performance.now() - started).toBeGreaterThanOrEqual(50)
    expect(asked).toEqual(['b7f1c3a0-1a2b-4c3d-9e5f-6a7b8c9d0e1a'])
    expect(results).toEqual([
      {name: 'web', state: 'installed'},
      {name: 'cache', state: 'failed', error: {code: 'SIMULATED_FAILURE', message: 'simulated: the image pull was refused'}},
    ])
  })
})
