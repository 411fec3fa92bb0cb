import {describe, expect, test} from 'bun:test'
import {enrollCommand, enrollLine, vouchOf} from '../../../src/client/enroll.ts'
import type {OperatorClient} from '../../../src/client/operator-client.ts'
import type {CreatedJoinToken} from '../../../src/operator-contract/views.ts'
import {UsageError} from '../../../src/util/errors.ts'

const FP = `sha256:${'ab'.repeat(32)}`

describe('the enroll line', () => {
  test('one line; the CA is checked against the fingerprint before the install script is fetched over verified TLS', () => {
    const line = enrollLine({deviceUrl: 'https://wfm.example.com:8443/v1alpha2/margo', caFingerprint: FP, joinToken: 'margo-join_abc'})
    expect(line).not.toContain('\n')
    expect(line.startsWith("sh -c '")).toBe(true)
    expect(line.endsWith(` margo-enroll 'https://wfm.example.com:8443' '${'ab'.repeat(32)}' 'https://wfm.example.com:8443/v1alpha2/margo' 'margo-join_abc'`)).toBe(true)
    const program = line.slice(7, line.indexOf("' margo-enroll"))
    const insecure = program.indexOf('curl -fsSk')
    const check = program.indexOf('sha256sum')
    const script = program.indexOf('--cacert "$d/ca.pem" "$1/downloads/install.sh"')
    expect(insecure).toBeGreaterThan(-1)
    expect(check).toBeGreaterThan(insecure)
    expect(script).toBeGreaterThan(check)
    // Only the CA is ever fetched without verification.
    expect(program.match(/curl -[A-Za-z]*k\b/g)).toHaveLength(1)
  })

  test('values are passed as quoted arguments, never spliced into the program', () => {
    const line = enrollLine({deviceUrl: "https://wfm.example.com/it's", caFingerprint: FP, joinToken: 't'})
    expect(line).toContain(`'https://wfm.example.com/it'\\''s'`)
  })

  test('a fingerprint that is not sha256:<hex> is refused', () => {
    expect(() => enrollLine({deviceUrl: 'https://wfm.example.com', caFingerprint: 'md5:00', joinToken: 't'})).toThrow('sha256')
  })
})

describe('the join token in the line', () => {
  test('the install script gets --join-token only when the line carries one', () => {
    const program = (line: string) => line.slice(7, line.indexOf("' margo-enroll"))
    const bare = enrollLine({deviceUrl: 'https://wfm.example.com', caFingerprint: FP})
    expect(bare.endsWith(` margo-enroll 'https://wfm.example.com' '${'ab'.repeat(32)}' 'https://wfm.example.com'`)).toBe(true)
    expect(program(bare)).toContain('${4:+--join-token "$4"}')
  })

  const TOKEN = 'margo-join_0123456789abcdefghij'
  /** Answers health and join-token creation as margo serve does; records what was asked. */
  function fakeClient() {
    const calls: {method: string, path: string, body?: unknown}[] = []
    const client = {
      health: async () => ({version: '0.1.0', uptimeSeconds: 1, enrollment: 'approve', deviceApiUrl: 'https://wfm.example.com:8443/api/v1', caFingerprint: FP}),
      call: async (method: string, path: string, opts: {body?: Record<string, unknown>} = {}) => {
        calls.push({method, path, body: opts.body})
        const body = (opts.body ?? {}) as {labels?: Record<string, string>, uses?: number}
        return {
          id: 'jt-0a1b2c3d4e', labels: body.labels ?? {}, scope: null, maxUses: body.uses ?? 1, uses: 0, createdAt: '2026-01-01T00:00:00.000Z', createdBy: 'bootstrap',
          expiresAt: '2026-01-02T00:00:00.000Z', revokedAt: null, lastUsedAt: null, token: TOKEN,
        } satisfies CreatedJoinToken
      },
    }
    return {client: client as unknown as OperatorClient, calls}
  }

  test('by default the line carries a new single-use join token with the labels; the result shows the token without its secret', async () => {
    const {client, calls} = fakeClient()
    const r = await enrollCommand(client, {labels: ['site=plant-7,line=2']})
    expect(calls).toEqual([{method: 'POST', path: '/join-tokens', body: {labels: {site: 'plant-7', line: '2'}}}])
    expect(r.vouch).toBe('new-join-token')
    expect(r.line.endsWith(` '${TOKEN}'`)).toBe(true)
    expect(r.deviceUrl).toBe('https://wfm.example.com:8443/api/v1')
    expect(r.joinToken?.id).toBe('jt-0a1b2c3d4e')
    expect(JSON.stringify(r.joinToken)).not.toContain(TOKEN)
  })

  test('uses and expiry go to the join token; a given token is used as is; --no-join-token makes none', async () => {
    const made = fakeClient()
    await enrollCommand(made.client, {labels: [], uses: 5, expires: '2h'})
    expect(made.calls[0]!.body).toEqual({uses: 5, expires: '2h'})
    const given = fakeClient()
    const g = await enrollCommand(given.client, {labels: [], joinToken: TOKEN})
    expect(given.calls).toEqual([])
    expect(g.vouch).toBe('given-join-token')
    expect(g.line.endsWith(` '${TOKEN}'`)).toBe(true)
    const none = fakeClient()
    const n = await enrollCommand(none.client, {labels: [], noJoinToken: true})
    expect(none.calls).toEqual([])
    expect(n.vouch).toBe('none')
    expect(n.joinToken).toBeNull()
    expect(n.line).not.toContain('margo-join_')
  })

  test('the container line passes the join token to the agent in its environment', async () => {
    const {client} = fakeClient()
    const r = await enrollCommand(client, {labels: ['site=plant-7'], container: {image: 'margo-agent:0.1.0'}})
    expect(r.line).toStartWith('docker run ')
    expect(r.line).toContain(`-e MARGO_JOIN_TOKEN=${TOKEN} `)
    expect(r.line).toContain(`-e MARGO_CA_FINGERPRINT=${FP}`)
    const none = await enrollCommand(fakeClient().client, {labels: [], noJoinToken: true, container: {image: 'margo-agent:0.1.0'}})
    expect(none.line).not.toContain('MARGO_JOIN_TOKEN')
  })

  test('flags that describe a made token are refused with a given one or none', () => {
    expect(() => vouchOf({labels: ['a=b'], noJoinToken: true})).toThrow('margo device label')
    expect(() => vouchOf({labels: [], uses: 2, joinToken: TOKEN})).toThrow(UsageError)
    expect(() => vouchOf({labels: [], joinToken: TOKEN, noJoinToken: true})).toThrow('not both')
    expect(() => vouchOf({labels: [], joinToken: "x' y"})).toThrow('--join-token')
    expect(vouchOf({labels: ['a=b']})).toBe('new-join-token')
  })
})
