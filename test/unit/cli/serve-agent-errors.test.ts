import {afterAll, describe, expect, test} from 'bun:test'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

const MAIN = join(import.meta.dir, '..', '..', '..', 'src', 'main.ts')
const root = mkdtempSync(join(tmpdir(), 'margo-serve-errors-'))
afterAll(() => rmSync(root, {recursive: true, force: true}))

/** The full CLI, piped, with a private HOME so no real data or state dir is touched. */
async function margo(args: string[]) {
  const home = join(root, 'home')
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    stdout: 'pipe', stderr: 'pipe',
    env: {PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data'), XDG_STATE_HOME: join(home, 'state'), NODE_ENV: 'production'},
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return {stdout, stderr, code}
}

async function expectOneErrorLine(args: string[], code: number, text: string) {
  const r = await margo(args)
  expect(r.code).toBe(code)
  expect(r.stdout).toBe('')
  expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringContaining(text)])
  expect(r.stderr).toStartWith('error: ')
}

describe('serve and agent report failures like every other command', () => {
  test('serve with a bad --listen → exit 2, one line', async () => {
    await expectOneErrorLine(['serve', '--data-dir', join(root, 'data'), '--listen', '8443'], 2, '--listen 8443 is not HOST:PORT')
  })

  test('serve with --tls-cert but no --tls-key → exit 2, one line', async () => {
    await expectOneErrorLine(['serve', '--data-dir', join(root, 'data'), '--listen', '127.0.0.1:0', '--tls-cert', join(root, 'nope.pem')], 2, '--tls-cert and --tls-key go together')
  })

  test('agent status without a state dir → exit 3, one line', async () => {
    await expectOneErrorLine(['agent', 'status', '--state-dir', join(root, 'no-agent-here')], 3, 'no agent state in')
  })
})
