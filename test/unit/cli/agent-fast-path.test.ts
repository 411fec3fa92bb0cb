import {describe, expect, test} from 'bun:test'
import Agent from '../../../commands/agent.ts'
import {AGENT_FLAGS, parseAgentArgv} from '../../../commands/_agent-fast-path.ts'

describe('margo agent without oclif', () => {
  test('knows exactly the flags of the agent command, with the same types and choices', () => {
    const oclif: Record<string, unknown> = Object.fromEntries(Object.entries(Agent.flags).map(([name, f]) => {
      const flag = f as {type: string, options?: readonly string[]}
      return [name, {type: flag.type === 'boolean' ? 'boolean' : 'string', ...(flag.options ? {options: [...flag.options]} : {})}]
    }))
    const ours = Object.fromEntries(Object.entries(AGENT_FLAGS).map(([name, f]) => [name, {type: f.type, ...('options' in f ? {options: [...f.options]} : {})}]))
    expect(ours as unknown).toEqual(oclif)
  })

  test('parses a clean command line', () => {
    expect(parseAgentArgv(['--server', 'https://wfm:8443', '--poll-interval=10s', '--once', '--log-level', 'debug']))
      .toMatchObject({server: 'https://wfm:8443', 'poll-interval': '10s', once: true, 'log-level': 'debug'})
  })

  for (const argv of [['--help'], ['-h'], ['--bogus'], ['--log-level', 'loud'], ['--server'], ['--server', '--once'], ['stray'], ['--no-once'], ['--verbose']]) {
    test(`leaves ${argv.join(' ')} to oclif`, () => {
      expect(parseAgentArgv(argv)).toBeNull()
    })
  }
})
