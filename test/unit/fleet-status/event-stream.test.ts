import {describe, expect, test} from 'bun:test'
import {EventBus} from '../../../src/server/events.ts'
import {EventLog, formatEvent, parseLastEventId, parseTypeFilter} from '../../../src/server/fleet-status/event-stream.ts'

describe('event log', () => {
  test('numbers events, keeps the last N, and says when a gap cannot be replayed', () => {
    const bus = new EventBus()
    const log = new EventLog(bus, 3)
    for (let i = 1; i <= 5; i++) bus.emit({type: 'app.published', appId: 'a', version: String(i)})
    expect(log.lastId).toBe(5)
    expect(log.since(5)).toEqual([])
    expect(log.since(3)!.map(e => e.id)).toEqual([4, 5])
    expect(log.since(2)!.map(e => e.id)).toEqual([3, 4, 5])
    expect(log.since(1)).toBeNull() // event 2 is gone
    expect(log.since(6)).toBeNull() // an id from before a restart
  })

  test('subscribers get each event with its id until they unsubscribe', () => {
    const bus = new EventBus()
    const log = new EventLog(bus)
    const seen: number[] = []
    const off = log.subscribe(e => seen.push(e.id))
    bus.emit({type: 'device.seen', clientId: 'c'})
    off()
    bus.emit({type: 'device.seen', clientId: 'c'})
    expect(seen).toEqual([1])
    expect(log.listenerCount).toBe(0)
  })
})

describe('wire format and parameters', () => {
  test('an event is event, id and one data line with the JSON', () => {
    expect(formatEvent('deployment.status', {type: 'deployment.status', state: 'installed'}, 7))
      .toBe('event: deployment.status\nid: 7\ndata: {"type":"deployment.status","state":"installed"}\n\n')
    expect(formatEvent('stream.open', {a: 'x\ny'})).toBe('event: stream.open\ndata: {"a":"x\\ny"}\n\n')
  })

  test('types: exact names and families; empty means all; anything else is refused', () => {
    const f = parseTypeFilter('deployment.status, device.*')
    if (!f.ok) throw new Error(f.message)
    expect(['deployment.status', 'device.seen', 'device.onboarded', 'deployment.changed', 'devices.x'].filter(f.filter)).toEqual(['deployment.status', 'device.seen', 'device.onboarded'])
    const all = parseTypeFilter(undefined)
    expect(all.ok && all.filter('anything')).toBe(true)
    expect(parseTypeFilter('device.*,<script>').ok).toBe(false)
    expect(parseTypeFilter('*').ok).toBe(false)
  })

  test('Last-Event-ID is a decimal id or ignored', () => {
    expect(parseLastEventId('42')).toBe(42)
    expect(parseLastEventId(' 7 ')).toBe(7)
    expect(parseLastEventId('abc')).toBeUndefined()
    expect(parseLastEventId('-1')).toBeUndefined()
    expect(parseLastEventId(null)).toBeUndefined()
  })
})
