import {describe, expect, test} from 'bun:test'
import {detectCompose, findBinary} from '../../../src/agent/drivers/binaries.ts'
import {runCommand} from '../../../src/agent/drivers/exec.ts'
import {FAKE_BIN, FAKE_DOCKER, FAKE_DOCKER_COMPOSE, FAKE_HELM} from './helpers.ts'

describe('running tools', () => {
  test('exit code, stdout and stderr are captured', async () => {
    const r = await runCommand(['sh', '-c', 'echo out; echo err >&2; exit 3'])
    expect(r).toMatchObject({outcome: 'exited', code: 3, stdout: 'out\n', stderr: 'err\n'})
  })

  test('a missing binary is an outcome, not an exception', async () => {
    expect((await runCommand(['/nonexistent/helm', 'version'])).outcome).toBe('not-found')
    expect((await runCommand(['margo-no-such-tool-here'])).outcome).toBe('not-found')
  })

  test('a timeout kills the whole process group, even children holding the pipes', async () => {
    const started = Date.now()
    const r = await runCommand(['sh', '-c', 'sleep 30 & sleep 30; echo never'], {timeoutMs: 200})
    expect(r.outcome).toBe('timed-out')
    expect(Date.now() - started).toBeLessThan(3000)
  })

  test('an abort signal stops the command', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    expect((await runCommand(['sleep', '30'], {signal: controller.signal})).outcome).toBe('aborted')
  })

  test('cwd and env reach the child', async () => {
    const r = await runCommand(['sh', '-c', 'pwd; echo "$MARGO_X"'], {cwd: '/tmp', env: {PATH: process.env.PATH, MARGO_X: 'a b'}})
    expect(r.stdout).toBe('/tmp\na b\n')
  })
})

describe('finding tools', () => {
  test('a configured path wins and is never replaced by PATH; PATH is searched otherwise', () => {
    expect(findBinary('helm', FAKE_HELM, '')).toBe(FAKE_HELM)
    expect(findBinary('helm', '/nonexistent/helm', FAKE_BIN)).toBeUndefined()
    expect(findBinary('helm', undefined, FAKE_BIN)).toBe(FAKE_HELM)
    expect(findBinary('helm', undefined, '/nonexistent')).toBeUndefined()
  })

  test('compose v2 plugin is preferred; a 1.x plugin or standalone means v1 behaviour', async () => {
    expect(await detectCompose({docker: FAKE_DOCKER, dockerCompose: FAKE_DOCKER_COMPOSE})).toEqual({argv: [FAKE_DOCKER, 'compose'], version: '2.27.0', v2: true})
    const env = {...process.env, MARGO_FAKE_LOG: ''}
    expect(await detectCompose({docker: FAKE_DOCKER}, {env: {...env, MARGO_FAKE_COMPOSE_VERSION: '1.29.2'}})).toEqual({argv: [FAKE_DOCKER, 'compose'], version: '1.29.2', v2: false})
    expect(await detectCompose({docker: FAKE_DOCKER, dockerCompose: FAKE_DOCKER_COMPOSE}, {env: {...env, MARGO_FAKE_COMPOSE_MISSING: '1'}})).toEqual({argv: [FAKE_DOCKER_COMPOSE], version: '1.29.2', v2: false})
    expect(await detectCompose({docker: FAKE_DOCKER}, {env: {...env, MARGO_FAKE_COMPOSE_MISSING: '1'}})).toBeUndefined()
  })
})
