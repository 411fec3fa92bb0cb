import {describe, expect, test} from 'bun:test'
import {parseComposeVersion} from '../../../src/agent/drivers/binaries.ts'
import {composeDownArgs, composeProjectName, composePsArgs, composeUpArgs} from '../../../src/agent/drivers/compose-args.ts'
import {parsePsJson, parsePsTable, projectState} from '../../../src/agent/drivers/compose-status.ts'

const v2 = {argv: ['/usr/bin/docker', 'compose'], version: '2.27.0', v2: true}
const v1 = {argv: ['/usr/bin/docker-compose'], version: '1.29.2', v2: false}
const files = {composeFile: '/w/app/package/app/compose.yaml', envFile: '/w/app/margo.env'}
const withOverride = {...files, overrideFile: '/w/app/margo.override.yaml'}

describe('compose command lines', () => {
  test('project name is <component>-<first 8 of the deployment id>, lowercase and compose-safe', () => {
    expect(composeProjectName('digitron-orchestrator-docker', 'AD9B614E-8912-45f4-a523-372358765def')).toBe('digitron-orchestrator-docker-ad9b614e')
    expect(composeProjectName('-x', 'ad9b614e-8912')).toBe('x-ad9b614e')
    expect(composeProjectName('a.b', 'ad9b614e')).toMatch(/^[a-z0-9][a-z0-9_-]*$/)
  })

  test('CL-25: v2 up waits with --wait when wait is true, not when false', () => {
    expect(composeUpArgs(v2, 'app-ad9b614e', files, true)).toEqual([
      '/usr/bin/docker', 'compose', '-p', 'app-ad9b614e', '-f', '/w/app/package/app/compose.yaml', '--env-file', '/w/app/margo.env', 'up', '-d', '--remove-orphans', '--wait',
    ])
    expect(composeUpArgs(v2, 'p', files, false)).not.toContain('--wait')
  })

  test('CL-36: the override file is a second -f after compose.yaml', () => {
    expect(composeUpArgs(v2, 'p', withOverride, true)).toEqual([
      '/usr/bin/docker', 'compose', '-p', 'p', '-f', '/w/app/package/app/compose.yaml', '-f', '/w/app/margo.override.yaml', '--env-file', '/w/app/margo.env', 'up', '-d', '--remove-orphans', '--wait',
    ])
  })

  test('CL-25: v1 never gets --wait (the driver polls ps instead)', () => {
    expect(composeUpArgs(v1, 'p', files, true)).toEqual(['/usr/bin/docker-compose', '-p', 'p', '-f', '/w/app/package/app/compose.yaml', '--env-file', '/w/app/margo.env', 'up', '-d', '--remove-orphans'])
  })

  test('down removes orphans and keeps volumes; ps lists every container', () => {
    expect(composeDownArgs(v2, 'p', files).slice(-2)).toEqual(['down', '--remove-orphans'])
    expect(composeDownArgs(v2, 'p', files)).not.toContain('-v')
    expect(composePsArgs(v2, 'p', files).slice(-4)).toEqual(['ps', '--all', '--format', 'json'])
    expect(composePsArgs(v1, 'p', files).slice(-1)).toEqual(['ps'])
  })

  test('compose versions: v2 plugin, v1 standalone, and a v2-named plugin that forwards to v1', () => {
    expect(parseComposeVersion('Docker Compose version v2.27.0\n')).toEqual({version: '2.27.0', major: 2})
    expect(parseComposeVersion('Docker Compose version 2.20.2+ds1-0ubuntu1~22.04.1')).toEqual({version: '2.20.2+ds1-0ubuntu1~22.04.1', major: 2})
    expect(parseComposeVersion('docker-compose version 1.29.2, build unknown\ndocker-py version: 5.0.3')).toEqual({version: '1.29.2', major: 1})
    expect(parseComposeVersion('nonsense')).toBeUndefined()
  })
})

describe('compose status', () => {
  test('v2 ps JSON: array and one object per line', () => {
    const line = '{"Name":"p-web-1","Service":"web","State":"running","Health":"","ExitCode":0}'
    expect(parsePsJson(`${line}\n${line.replace('web', 'db')}\n`)).toHaveLength(2)
    expect(parsePsJson(`[${line}]`)).toEqual([{name: 'p-web-1', state: 'running', health: '', exitCode: 0}])
    expect(parsePsJson('')).toEqual([])
  })

  test('v1 ps table, as docker-compose 1.29 prints it', () => {
    const table = [
      '  Name        Command         State       Ports',
      '-----------------------------------------------',
      'v1t_bad_1   sh -c exit 3   Exit 3              ',
      'v1t_hc_1    sleep 3600     Up (healthy)        ',
      'v1t_web_1   sleep 3600     Up                  ',
      'v1t_new_1   sleep 3600     Up (health: starting)   0.0.0.0:80->80/tcp',
    ].join('\n')
    expect(parsePsTable(table)).toEqual([
      {name: 'v1t_bad_1', state: 'exited', health: '', exitCode: 3},
      {name: 'v1t_hc_1', state: 'running', health: 'healthy'},
      {name: 'v1t_web_1', state: 'running', health: ''},
      {name: 'v1t_new_1', state: 'running', health: 'starting'},
    ])
    expect(parsePsTable('Name   Command   State   Ports\n------------------------------\n')).toEqual([])
  })

  test('containers map onto the six states; a non-zero exit is failed, exit 0 is done', () => {
    const c = (state: string, health = '', exitCode?: number) => ({name: 'x', state, health, ...(exitCode !== undefined && {exitCode})})
    expect(projectState([])).toEqual({state: 'removed'})
    expect(projectState([c('running'), c('running', 'healthy')])).toEqual({state: 'installed'})
    expect(projectState([c('running'), c('exited', '', 0)])).toEqual({state: 'installed'})
    expect(projectState([c('running', 'starting')])).toEqual({state: 'installing'})
    expect(projectState([c('created')])).toEqual({state: 'installing'})
    expect(projectState([c('removing')])).toEqual({state: 'removing'})
    for (const bad of [c('exited', '', 1), c('restarting'), c('dead'), c('running', 'unhealthy'), c('paused')]) {
      const s = projectState([c('running'), bad])
      expect(s.state).toBe('failed')
      expect(s.error?.code).toBe('COMPOSE_CONTAINER_FAILED')
    }
    expect(projectState([c('exited', '', 137)]).error?.message).toContain('exited with code 137')
  })
})
