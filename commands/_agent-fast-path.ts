import {parseArgs} from 'node:util'
import pjson from '../package.json' with {type: 'json'}
import {exitCodeFor, formatError} from '../src/cli/errors.ts'

/**
 * `margo agent` runs for months on small devices, so it starts without oclif and its command
 * tree (and with them Elysia, React, Ink, OpenPGP): what it loads stays resident. Only argv
 * that parses cleanly takes this path; anything else (`--help`, an unknown flag, a value
 * outside a flag's options) goes through oclif, which reports it as for every other command.
 */
export const AGENT_FLAGS = {
  server: {type: 'string'},
  'state-dir': {type: 'string'},
  config: {type: 'string'},
  'key-type': {type: 'string', options: ['p256', 'p384', 'rsa2048']},
  key: {type: 'string'},
  cert: {type: 'string'},
  'ca-file': {type: 'string'},
  'ca-fingerprint': {type: 'string'},
  'insecure-tofu': {type: 'boolean'},
  'join-token': {type: 'string'},
  'poll-interval': {type: 'string'},
  'poll-period': {type: 'string'},
  timezone: {type: 'string'},
  'workload-dir': {type: 'string'},
  helm: {type: 'string'},
  docker: {type: 'string'},
  'log-format': {type: 'string', options: ['text', 'json']},
  'log-level': {type: 'string', options: ['debug', 'info', 'warn', 'error']},
  'print-config': {type: 'boolean'},
  once: {type: 'boolean'},
  'simulate-drivers': {type: 'boolean'},
  'metrics-listen': {type: 'string'},
} as const satisfies Record<string, {type: 'string' | 'boolean', options?: readonly string[]}>

export type AgentFlagValues = {[K in keyof typeof AGENT_FLAGS]?: (typeof AGENT_FLAGS)[K]['type'] extends 'boolean' ? boolean : string}

/** The agent's flags, or null when argv needs oclif (help, errors, anything unusual). */
export function parseAgentArgv(argv: string[]): AgentFlagValues | null {
  if (argv.some(a => a === '--help' || a === '-h' || a === '--verbose' || a === '--' || a.startsWith('--no-'))) return null
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({args: argv, options: Object.fromEntries(Object.entries(AGENT_FLAGS).map(([k, v]) => [k, {type: v.type}])), strict: true, allowPositionals: false}).values
  } catch {
    return null
  }
  for (const [name, spec] of Object.entries(AGENT_FLAGS)) {
    const value = values[name]
    if ('options' in spec && value !== undefined && !(spec.options as readonly string[]).includes(value as string)) return null
    // A string flag written as the last word with no value, or with a flag as its value, is oclif's to explain.
    if (spec.type === 'string' && typeof value === 'string' && value.startsWith('--')) return null
  }
  return values as AgentFlagValues
}

/** Run the agent from parsed flags: shared by this path and the oclif command. */
export async function runAgentCommand(flags: AgentFlagValues): Promise<void> {
  const {agentMain} = await import('../src/agent/main.ts')
  await agentMain({
    flags: {
      server: flags.server, stateDir: flags['state-dir'], configPath: flags.config, keyType: flags['key-type'], keyFile: flags.key, certFile: flags.cert,
      caFile: flags['ca-file'], caFingerprint: flags['ca-fingerprint'], insecureTofu: flags['insecure-tofu'] || undefined,
      joinToken: flags['join-token'],
      pollingIntervalRate: flags['poll-interval'], pollingIntervalPeriod: flags['poll-period']?.split(',').map(s => s.trim()),
      timezone: flags.timezone, workloadDir: flags['workload-dir'], helm: flags.helm, docker: flags.docker,
      logFormat: flags['log-format'], logLevel: flags['log-level'], metricsListen: flags['metrics-listen'],
    },
    env: process.env,
    printConfig: flags['print-config'] ?? false,
    once: flags.once ?? false,
    simulateDrivers: flags['simulate-drivers'] ?? false,
    write: text => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    version: pjson.version,
  })
}

/** Runs `margo agent` without oclif when argv allows; false when oclif must take it. */
export async function agentFastPath(argv: string[]): Promise<boolean> {
  const flags = parseAgentArgv(argv)
  if (!flags) return false
  try {
    await runAgentCommand(flags)
  } catch (err) {
    process.stderr.write(`${formatError(err, {verbose: false, command: 'agent'})}\n`)
    process.exit(exitCodeFor(err))
  }
  return true
}
