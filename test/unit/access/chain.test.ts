import {describe, expect, test} from 'bun:test'
import {GENESIS_HASH, entryHash, verifyChain, type ChainFields} from '../../../src/server/audit/chain.ts'
import {redactSummary} from '../../../src/server/audit/redact.ts'

function chain(n: number) {
  const out: (ChainFields & {hash: string})[] = []
  for (let seq = 1; seq <= n; seq++) {
    const fields = {seq, at: `2026-01-0${seq}T00:00:00.000Z`, actor: 'ci', action: 'rollout.created', target: `rollout:${seq}`, summary: '{}', requestId: null, prevHash: out.at(-1)?.hash ?? GENESIS_HASH}
    out.push({...fields, hash: entryHash(fields)})
  }
  return out
}

describe('the audit hash chain', () => {
  test('an untouched chain verifies and reports its head', () => {
    const c = chain(4)
    expect(verifyChain(c)).toEqual({count: 4, head: c[3]!.hash, broken: null})
    expect(verifyChain([])).toEqual({count: 0, head: null, broken: null})
  })

  test('an edited, deleted or reordered entry is named', () => {
    const edited = chain(4)
    edited[2] = {...edited[2]!, actor: 'mallory'}
    expect(verifyChain(edited).broken?.seq).toBe(3)

    const deleted = chain(4)
    deleted.splice(1, 1)
    expect(verifyChain(deleted).broken).toMatchObject({seq: 3})

    const swapped = chain(4)
    ;[swapped[1], swapped[2]] = [{...swapped[2]!, seq: 2}, {...swapped[1]!, seq: 3}]
    expect(verifyChain(swapped).broken?.seq).toBe(2)

    // Recomputing the edited entry's own hash moves the break to the next entry, never hides it.
    const rehashed = chain(4)
    const forged = {...rehashed[1]!, actor: 'mallory'}
    rehashed[1] = {...forged, hash: entryHash(forged)}
    expect(verifyChain(rehashed).broken?.seq).toBe(3)
  })
})

describe('audit summaries', () => {
  test('parameter values are hashed, secret-looking keys redacted, long strings hashed', () => {
    const out = redactSummary({appId: 'app', values: {greeting: 'hi', dbPassword: 'hunter2'}, password: 'pw', certificate: 'x'.repeat(300)}) as Record<string, unknown>
    const text = JSON.stringify(out)
    expect(text).not.toContain('hunter2')
    expect(text).not.toContain('"hi"')
    expect(text).not.toContain('pw"')
    expect(out.appId).toBe('app')
    expect((out.values as Record<string, string>).dbPassword).toBe('<redacted>')
    expect((out.values as Record<string, string>).greeting).toMatch(/^sha256:[0-9a-f]{16}$/)
    expect(out.password).toBe('<redacted>')
    expect(out.certificate).toMatch(/^sha256:/)
  })
})
