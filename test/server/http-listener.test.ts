import {afterEach, describe, expect, test} from 'bun:test'
import {Elysia} from 'elysia'
import {listenerOptions} from '../../src/server/http-listener.ts'
import {createLogger} from '../../src/util/log.ts'

const running: {stop(): Promise<unknown>}[] = []
afterEach(async () => { for (const app of running.splice(0)) await app.stop() })

describe('the HTTP listener', () => {
  test('an error that escapes the routes and their error hooks is a bare problem 500: no error page, no stack, logged', async () => {
    const lines: string[] = []
    const log = createLogger({format: 'json', write: l => lines.push(l)})
    const app = new Elysia()
      .onError(() => { throw new Error('the error hook itself failed at /secret/path.ts:12') })
      .get('/api/v1/onboarding/certificate', () => { throw new Error('route failed') })
    app.listen({hostname: '127.0.0.1', port: 0, ...listenerOptions(log)})
    running.push(app)
    const res = await fetch(`http://127.0.0.1:${app.server!.port}/api/v1/onboarding/certificate`)
    expect(res.status).toBe(500)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    const text = await res.text()
    expect(JSON.parse(text)).toEqual({type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'The server failed to handle the request; it has been logged.', error: 'Internal Server Error'})
    expect(text).not.toContain('secret')
    expect(lines.map(l => JSON.parse(l) as {level: string, event: string, error: string})).toEqual([
      expect.objectContaining({level: 'error', event: 'http.unhandled', error: 'the error hook itself failed at /secret/path.ts:12'}),
    ])
  })

  test('the port is not shared: a second listener on it fails', async () => {
    const log = createLogger({format: 'json', write: () => {}})
    const app = new Elysia().get('/', () => 'first')
    app.listen({hostname: '127.0.0.1', port: 0, ...listenerOptions(log)})
    running.push(app)
    const second = new Elysia().get('/', () => 'second')
    expect(() => second.listen({hostname: '127.0.0.1', port: app.server!.port, ...listenerOptions(log)})).toThrow(/in use/)
  })
})
