import {afterEach, describe, expect, test} from 'bun:test'
import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {JOIN_FILE, joinUrl, loadJoinRecord, needsJoin, presentJoinToken, saveJoinRecord, tokenSha256, type JoinRecord} from '../../../src/agent/join.ts'
import {TransportError} from '../../../src/agent/device-client.ts'
import {WfmResponseError} from '../../../src/agent/runtime/errors.ts'
import {StateDir} from '../../../src/agent/state/state-dir.ts'

const FP = `sha256:${'ab'.repeat(32)}`
const TOKEN = 'margo-join_secret-value'
const CA = '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n'
const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true}) })

describe('when the join token is presented', () => {
  const current = {server: 'https://wfm:8443/v1alpha2/margo', fingerprint: FP, tokenSha256: tokenSha256(TOKEN)}
  const record: JoinRecord = {...current, at: '2026-01-01T00:00:00.000Z', outcome: 'admitted'}

  test('once per server, certificate and token, whatever the outcome', () => {
    expect(needsJoin(null, current)).toBe(true)
    expect(needsJoin(record, current)).toBe(false)
    expect(needsJoin({...record, outcome: 'refused'}, current)).toBe(false)
    expect(needsJoin({...record, server: 'https://wfm:8443/v1alpha2/margo/'}, current)).toBe(false)
    expect(needsJoin(record, {...current, tokenSha256: tokenSha256('another')})).toBe(true)
    expect(needsJoin(record, {...current, fingerprint: `sha256:${'cd'.repeat(32)}`})).toBe(true)
    expect(needsJoin(record, {...current, server: 'https://other:8443'})).toBe(true)
  })

  test('at the operator side of the server, never under the device interface', () => {
    expect(joinUrl('https://wfm:8443/v1alpha2/margo')).toBe('https://wfm:8443/operator/v1/join')
  })

  test('the record keeps the token\'s hash only, readable by the owner alone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'margo-join-'))
    dirs.push(dir)
    saveJoinRecord(dir, record)
    const text = readFileSync(join(dir, JOIN_FILE), 'utf8')
    expect(text).not.toContain(TOKEN)
    expect(statSync(join(dir, JOIN_FILE)).mode & 0o777).toBe(0o600)
    expect(loadJoinRecord(new StateDir(dir))).toEqual(record)
  })
})

describe('presenting a join token', () => {
  const answer = (status: number, body: unknown) => async (url: string, init?: RequestInit) => {
    expect(url).toBe('https://wfm:8443/operator/v1/join')
    expect(JSON.parse(String(init!.body))).toEqual({token: TOKEN, fingerprint: FP})
    return new Response(JSON.stringify(body), {status, headers: {'content-type': 'application/json'}})
  }
  const present = (fetch: (url: string, init?: RequestInit) => Promise<Response>) =>
    presentJoinToken({server: 'https://wfm:8443/api-root', caPem: CA, token: ` ${TOKEN}\n`, fingerprint: FP, fetch})

  test('admitted: the token id and labels', async () => {
    expect(await present(answer(200, {joinTokenId: 'jt-1', labels: {site: 'a'}, repeated: false}))).toEqual({ok: true, joinTokenId: 'jt-1', labels: {site: 'a'}, repeated: false})
  })

  test('refused: the server\'s code and message, to log', async () => {
    expect(await present(answer(403, {error: {code: 'join_token_used_up', message: 'join token jt-1 has admitted 1 of 1 device'}}))).toEqual({ok: false, status: 403, code: 'join_token_used_up', message: 'join token jt-1 has admitted 1 of 1 device'})
  })

  test('the server\'s own trouble and an unreachable server throw, to be retried', async () => {
    await expect(present(answer(503, {error: {code: 'x', message: 'busy'}}))).rejects.toBeInstanceOf(WfmResponseError)
    await expect(present(async () => { throw Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'}) })).rejects.toBeInstanceOf(TransportError)
  })
})
