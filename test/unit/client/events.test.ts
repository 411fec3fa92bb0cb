import {describe, expect, test} from 'bun:test'
import type {Connection} from '../../../src/client/connection.ts'
import {AuthError} from '../../../src/util/errors.ts'
import {createSseParser, reconnectDelay, subscribeEvents, type SseMessage} from '../../../src/client/events.ts'

const STREAM = 'retry: 2000\nevent: stream.open\ndata: {"lastEventId":0}\n\n: heartbeat\n\nevent: deployment.status\nid: 7\ndata: {"state":"installed",\ndata: "deploymentId":"d1"}\n\ndata: plain\n\n'

function parseAll(chunks: string[]) {
  const out: SseMessage[] = []
  const p = createSseParser(m => out.push(m))
  for (const c of chunks) p.push(c)
  return {out, p}
}

describe('SSE parser', () => {
  const expected = [
    {event: 'stream.open', data: '{"lastEventId":0}'},
    {event: 'deployment.status', data: '{"state":"installed",\n"deploymentId":"d1"}', id: '7'},
    {event: 'message', data: 'plain', id: '7'},
  ]

  test('the same messages whatever the chunk boundaries (every split point, and one character at a time)', () => {
    expect(parseAll([STREAM]).out).toEqual(expected)
    for (let i = 1; i < STREAM.length; i++) expect(parseAll([STREAM.slice(0, i), STREAM.slice(i)]).out).toEqual(expected)
    const single = parseAll([...STREAM])
    expect(single.out).toEqual(expected)
    expect(single.p.retryMs).toBe(2000)
    expect(single.p.lastEventId).toBe('7')
  })

  test('CRLF and lone CR end lines too, also when a CRLF is split between chunks', () => {
    const crlf = STREAM.replaceAll('\n', '\r\n')
    const cr = STREAM.replaceAll('\n', '\r')
    for (const text of [crlf, cr]) {
      for (let i = 1; i < text.length; i++) expect(parseAll([text.slice(0, i), text.slice(i)]).out).toEqual(expected)
    }
  })

  test('nothing is dispatched before the blank line; a message without data is dropped; bad retry and NUL ids are ignored', () => {
    const {out, p} = parseAll(['event: x\ndata: 1', '\n'])
    expect(out).toEqual([])
    p.push('\nevent: empty\n\nretry: soon\nid: a\0b\ndata:no-space\n\n')
    expect(out).toEqual([{event: 'x', data: '1'}, {event: 'message', data: 'no-space'}])
    expect(p.retryMs).toBeUndefined()
    expect(p.lastEventId).toBeUndefined()
  })
})

const connection: Connection = {baseUrl: 'https://wfm.test/operator/v1', token: 'tok', origin: {server: '--server', token: '--token'}}

/** A response whose body is the given chunks, then ends (as when the server goes away). */
const sse = (...chunks: string[]) => new Response(new ReadableStream({
  start(c) { for (const x of chunks) c.enqueue(new TextEncoder().encode(x)); c.close() },
}), {headers: {'content-type': 'text/event-stream'}})

describe('subscribeEvents', () => {
  test('reconnects after the stream ends, with Last-Event-ID and the server\'s retry as back-off base; resolves when aborted', async () => {
    const abort = new AbortController()
    const requests: {url: string, headers: Record<string, string>}[] = []
    const answers: (() => Response | Promise<Response>)[] = [
      () => sse('retry: 500\n', 'event: stream.open\ndata: {}\n\nevent: device.seen\nid: 3\nda', 'ta: {"clientId":"c"}\n\n'),
      () => { throw Object.assign(new Error('refused'), {code: 'ECONNREFUSED'}) },
      () => sse('event: stream.open\ndata: {}\n\nevent: deployment.status\nid: 4\ndata: {"state":"installed"}\n\n'),
    ]
    const fakeFetch = (async (url: string, init: RequestInit) => {
      requests.push({url, headers: init.headers as Record<string, string>})
      const next = answers.shift()
      if (!next) { abort.abort(); throw new DOMException('aborted', 'AbortError') }
      return next()
    }) as unknown as typeof fetch
    const sleeps: number[] = []
    const events: unknown[] = []
    const errors: string[] = []
    await subscribeEvents(connection, {
      types: ['device.*', 'deployment.status'],
      signal: abort.signal,
      onEvent: e => events.push([e.type, e.id, e.data]),
      onError: e => errors.push(e.constructor.name),
      fetch: fakeFetch,
      sleep: async ms => { sleeps.push(ms) },
    })
    expect(events).toEqual([
      ['stream.open', undefined, {}],
      ['device.seen', '3', {clientId: 'c'}],
      ['stream.open', '3', {}], // the id persists across messages, as in the SSE standard
      ['deployment.status', '4', {state: 'installed'}],
    ])
    expect(requests[0]!.url).toBe('https://wfm.test/operator/v1/events?types=device.*%2Cdeployment.status')
    expect(requests[0]!.headers).toMatchObject({authorization: 'Bearer tok', accept: 'text/event-stream'})
    expect(requests[0]!.headers['last-event-id']).toBeUndefined()
    expect(requests[1]!.headers['last-event-id']).toBe('3')
    expect(requests[2]!.headers['last-event-id']).toBe('3')
    expect(requests[3]!.headers['last-event-id']).toBe('4')
    // Ended stream (had events: attempt 0), refused (attempt 1), ended again (had events: reset).
    expect(sleeps).toEqual([500, 1000, 500])
    expect(errors).toEqual(['UnreachableError', 'UnreachableError', 'UnreachableError'])
  })

  test('a rejected token ends the subscription with AuthError instead of retrying forever', async () => {
    let calls = 0
    const fakeFetch = (async () => { calls++; return Response.json({error: {code: 'unauthorized', message: 'no'}}, {status: 401}) }) as unknown as typeof fetch
    const run = subscribeEvents(connection, {signal: new AbortController().signal, onEvent: () => {}, fetch: fakeFetch, sleep: async () => {}})
    await expect(run).rejects.toBeInstanceOf(AuthError)
    expect(calls).toBe(1)
  })

  test('back-off doubles per failure from the base and stops at 30 s', () => {
    expect([0, 1, 2, 3, 10].map(a => reconnectDelay(a, 1000))).toEqual([1000, 2000, 4000, 8000, 30_000])
    expect(reconnectDelay(0, 2000)).toBe(2000)
  })
})
