import {describe, expect, test} from 'bun:test'
import {issueTicket, newTicketKey, verifyTicket} from '../../../src/server/enrollment/ticket.ts'

const NOW = new Date('2026-05-01T12:00:00Z')
const inAnHour = NOW.getTime() / 1000 + 3600

describe('enrollment tickets', () => {
  const key = newTicketKey()

  test('a ticket gives back its labels until it expires', () => {
    const ticket = issueTicket(key, {labels: {site: 'plant-7', line: '2'}, expiresAt: inAnHour})
    expect(verifyTicket(key, ticket, NOW)).toEqual({ok: true, payload: {labels: {line: '2', site: 'plant-7'}, expiresAt: inAnHour}})
    const late = verifyTicket(key, ticket, new Date((inAnHour + 1) * 1000))
    expect(late.ok).toBe(false)
    expect(!late.ok && late.reason).toContain('expired')
  })

  test('two tickets for the same labels differ', () => {
    expect(issueTicket(key, {labels: {}, expiresAt: inAnHour})).not.toBe(issueTicket(key, {labels: {}, expiresAt: inAnHour}))
  })

  test('a ticket of another server, or one with changed labels, is refused', () => {
    const ticket = issueTicket(key, {labels: {site: 'plant-7'}, expiresAt: inAnHour})
    const other = verifyTicket(newTicketKey(), ticket, NOW)
    expect(!other.ok && other.reason).toContain('not issued by this server')

    const [prefix, , mac] = ticket.split('.')
    const forged = Buffer.from(JSON.stringify({labels: {site: 'hq'}, expiresAt: inAnHour, nonce: 'x'})).toString('base64url')
    expect(verifyTicket(key, `${prefix}.${forged}.${mac}`, NOW).ok).toBe(false)
  })

  test('anything that is not a ticket is refused with a reason', () => {
    for (const junk of ['', 'mgt1', 'mgt1.a.b.c', 'jwt.a.b', 'x'.repeat(9000)]) {
      const r = verifyTicket(key, junk, NOW)
      expect(r.ok).toBe(false)
    }
  })
})
