import {describe, expect, test} from 'bun:test'
import type {Connection} from '../../../src/client/connection.ts'
import {UsageError} from '../../../src/util/errors.ts'
import {streamEventSource, type SubscribeEvents} from '../../../src/tui/event-source.ts'
import type {StreamStatus} from '../../../src/tui/model/state.ts'
import {assertTerminal, terminalProblem} from '../../../src/tui/terminal.ts'
import {waitFor} from './fixtures.tsx'

const connection: Connection = {baseUrl: 'https://127.0.0.1:1/operator/v1', token: 't', origin: {server: 'test', token: 'test'}}

/** A subscribeEvents the test drives: it hands out the handlers and resolves when aborted. */
function fakeStream(result: 'hang' | 'reject' = 'hang') {
  const handle: {onEvent?: (e: {type: string, data: unknown}) => void, onError?: (err: Error) => void, signal?: AbortSignal} = {}
  const subscribe: SubscribeEvents = (_c, opts) => {
    Object.assign(handle, opts)
    if (result === 'reject') return Promise.reject(new Error('404: no event stream'))
    return new Promise(resolve => opts.signal.addEventListener('abort', () => resolve()))
  }
  return {handle, subscribe}
}

describe('event stream source', () => {
  test('events pass through and mark the stream live; an error marks it down until events flow again', async () => {
    const {handle, subscribe} = fakeStream()
    const statuses: StreamStatus[] = []
    const events: string[] = []
    const stop = streamEventSource(subscribe, connection, {settleMs: 60_000}).subscribe(e => events.push(e.type), s => statuses.push(s))
    handle.onEvent!({type: 'device.seen', data: {clientId: 'x'}})
    handle.onError!(new Error('connection reset'))
    handle.onEvent!({type: 'deployment.status', data: {}})
    expect(events).toEqual(['device.seen', 'deployment.status'])
    expect(statuses).toEqual(['connecting', 'live', 'down', 'live'])
    stop()
    expect(handle.signal!.aborted).toBe(true)
    handle.onEvent!({type: 'late', data: {}})
    expect(events).toHaveLength(2)
  })

  test('a quiet stream that has not failed counts as live after the settle time', async () => {
    const {subscribe} = fakeStream()
    const statuses: StreamStatus[] = []
    const stop = streamEventSource(subscribe, connection, {settleMs: 5}).subscribe(() => {}, s => statuses.push(s))
    await waitFor('live', () => statuses.includes('live'))
    stop()
  })

  test('a refusal that cannot be retried (no stream on this server) leaves it down: the app polls', async () => {
    const {subscribe} = fakeStream('reject')
    const statuses: StreamStatus[] = []
    const stop = streamEventSource(subscribe, connection, {settleMs: 60_000}).subscribe(() => {}, s => statuses.push(s))
    await waitFor('down', () => statuses.at(-1) === 'down')
    stop()
  })
})

describe('terminal check', () => {
  test('names what is not a terminal and refuses with a usage error (exit 2)', () => {
    expect(terminalProblem({isTTY: true}, {isTTY: true})).toBeUndefined()
    expect(terminalProblem({isTTY: false}, {isTTY: true})).toContain('stdin is not a TTY')
    expect(terminalProblem({}, {})).toContain('stdin and stdout are not a TTY')
    let err: unknown
    try { assertTerminal({isTTY: true}, {isTTY: false}) } catch (e) { err = e }
    expect(err).toBeInstanceOf(UsageError)
    expect((err as UsageError).exitCode).toBe(2)
  })
})
