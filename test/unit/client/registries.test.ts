import {describe, expect, test} from 'bun:test'
import {addAndSync} from '../../../src/client/registries.ts'
import type {SyncResult} from '../../../src/operator-contract/views.ts'
import type {AddRegistryRequest} from '../../../src/operator-contract/requests.ts'
import type {OperatorClient} from '../../../src/client/operator-client.ts'
import {UnreachableError} from '../../../src/util/errors.ts'

const request: AddRegistryRequest = {name: 'apps', kind: 'git', url: 'https://git.example/apps.git'}
const registry = {name: 'apps', kind: 'git', url: request.url, repositories: [], credentialsKind: null, intervalSeconds: 3600, lastSyncAt: null, lastSync: null}
const syncResult = (over: Partial<SyncResult> = {}): SyncResult => ({
  registry: 'apps', startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:00:01.000Z', appsFound: 0, versionsAdded: 0, versions: [], errors: [], ...over,
})

function client(sync: () => Promise<SyncResult>): OperatorClient {
  return {call: async (method: string, path: string) => (path === '/registries' && method === 'POST' ? registry : sync())} as unknown as OperatorClient
}

describe('registry add with its first sync', () => {
  test('a sync that cannot run says the registry was saved and how to retry', async () => {
    const unreachable = new UnreachableError('https://wfm.example/operator/v1 did not answer within 30s', {code: 'TimeoutError'})
    const out = await addAndSync(client(() => Promise.reject(unreachable)), request, true)
    expect(out.registry.name).toBe('apps')
    expect(out.sync).toBeNull()
    expect(out.failure!.message).toBe('registry apps was saved, but its first sync failed (https://wfm.example/operator/v1 did not answer within 30s) — retry with: margo registry sync apps')
    expect(out.failure!.exitCode).toBe(1)
  })

  test('a sync that found problems says the registry was saved and how to retry once they are fixed', async () => {
    const out = await addAndSync(client(async () => syncResult({errors: ['clone failed: repository not found']})), request, true)
    expect(out.sync!.errors).toHaveLength(1)
    expect(out.failure!.message).toBe('registry apps was saved, but its first sync found problems (shown above) — fix them, then run: margo registry sync apps')
  })

  test('a clean sync, or none asked for, is no failure', async () => {
    expect((await addAndSync(client(async () => syncResult({versionsAdded: 1})), request, true)).failure).toBeNull()
    expect((await addAndSync(client(() => Promise.reject(new Error('not called'))), request, false))).toMatchObject({sync: null, failure: null})
  })
})
