import {describe, expect, test} from 'bun:test'
import {join} from 'node:path'
import COMMANDS from '../../../commands/index.ts'
import pjson from '../../../package.json' with {type: 'json'}

const pjsonVersion = pjson.version

const MAIN = join(import.meta.dir, '..', '..', '..', 'src', 'main.ts')
const OPERATOR_COMMANDS = ['device:list', 'device:show', 'device:approve', 'device:revoke', 'app:publish', 'app:list', 'app:show', 'deploy', 'undeploy', 'status', 'login']

async function margo(args: string[]) {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {stdout: 'pipe', stderr: 'pipe', env: {...process.env, NODE_ENV: 'production'}})
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return {stdout, stderr, code}
}

describe('command registry', () => {
  test('every operator command is registered next to serve and agent', () => {
    for (const id of [...OPERATOR_COMMANDS, 'serve', 'agent', 'agent:status', 'device:deny', 'device:label', 'tui', 'conformance:wfm']) expect(Object.keys(COMMANDS)).toContain(id)
  })

  test('every command has a summary, a description and an example', () => {
    for (const [id, cmd] of Object.entries(COMMANDS)) {
      expect({id, summary: Boolean(cmd.summary)}).toEqual({id, summary: true})
      expect({id, description: Boolean(cmd.description)}).toEqual({id, description: true})
      expect({id, examples: (cmd.examples?.length ?? 0) > 0}).toEqual({id, examples: true})
    }
  })
})

describe('margo --version', () => {
  test('names the bun runtime the binary is built on, not node', async () => {
    const r = await margo(['--version'])
    expect(r.code).toBe(0)
    expect(r.stdout.trimEnd()).toBe(`margo/${pjsonVersion} ${process.platform}-${process.arch} bun-${Bun.version}`)
    const help = await margo(['--help'])
    expect(help.stdout).toContain(`bun-${Bun.version}`)
    expect(help.stdout).not.toContain('node-v')
  })
})

describe('margo --help', () => {
  test('lists every command and topic', async () => {
    const r = await margo(['--help'])
    expect(r.code).toBe(0)
    for (const word of ['serve', 'deploy', 'undeploy', 'status', 'login', 'device', 'app']) expect(r.stdout).toMatch(new RegExp(`^\\s+${word}\\s`, 'm'))
    const device = await margo(['device', '--help'])
    for (const verb of ['list', 'show', 'approve', 'revoke']) expect(device.stdout).toContain(`device ${verb}`)
    const app = await margo(['app', '--help'])
    for (const verb of ['publish', 'list', 'show']) expect(app.stdout).toContain(`app ${verb}`)
  })

  test('device list --help shows the shared flags and an example', async () => {
    const r = await margo(['device', 'list', '--help'])
    expect(r.code).toBe(0)
    for (const flag of ['--server', '--token', '--ca-file', '--data-dir', '--json', '--verbose']) expect(r.stdout).toContain(flag)
    expect(r.stdout).toContain('EXAMPLES')
  })
})
