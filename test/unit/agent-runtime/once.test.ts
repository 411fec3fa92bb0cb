import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {TransportError} from '../../../src/agent/device-client.ts'
import {createSimulatedDrivers} from '../../../src/agent/drivers/simulated.ts'
import {runAgent} from '../../../src/agent/runtime/agent.ts'
import {onceExitCode, WfmResponseError} from '../../../src/agent/runtime/errors.ts'
import {TrustError} from '../../../src/agent/trust.ts'
import {createCertificateAuthority} from '../../../src/pki/index.ts'
import {silentLogger} from '../../../src/util/log.ts'

type AgentConfig = Parameters<typeof runAgent>[0]['config']

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'margo-agent-once-'))
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

/** A loopback port nobody listens on. */
function closedPort(): number {
  const s = Bun.serve({hostname: '127.0.0.1', port: 0, fetch: () => new Response()})
  const port = s.port!
  s.stop(true)
  return port
}

function config(over: Partial<AgentConfig>): AgentConfig {
  return {
    server: `https://127.0.0.1:${closedPort()}`, stateDir: join(dir, 'state'), configPath: join(dir, 'agent.yaml'), keyType: 'p256', insecureTofu: false,
    pollingIntervalRate: 1000, pollingIntervalPeriod: ['00:00-24:00'], downtimeWindows: [], capabilities: {}, workloadDir: join(dir, 'work'), logLevel: 'error',
    ...over,
  } as AgentConfig
}

const runOnce = (cfg: AgentConfig) => runAgent({config: cfg, log: silentLogger, drivers: createSimulatedDrivers(), signal: new AbortController().signal, once: true})

describe('margo agent --once', () => {
  test('an unreachable WFM while establishing trust fails the run with exit code 5', async () => {
    const err = await runOnce(config({insecureTofu: true})).then(() => null, e => e)
    expect(err).toMatchObject({exitCode: 5})
    expect(String(err.message)).toContain('127.0.0.1')
  })

  test('an unreachable WFM while onboarding fails the run with exit code 5', async () => {
    const caFile = join(dir, 'ca.pem')
    writeFileSync(caFile, (await createCertificateAuthority({commonName: 'margo test CA'})).certPem)
    const err = await runOnce(config({caFile})).then(() => null, e => e)
    expect(err).toMatchObject({exitCode: 5})
    expect(String(err.message)).toMatch(/onboarding/)
  })

  test('exit codes follow the CLI conventions', () => {
    expect(onceExitCode(new TransportError('connection refused', 'refused', 'https://x'))).toBe(5)
    expect(onceExitCode(new WfmResponseError(403, null, {detail: 'enrollment pending'}, 'manifest poll'))).toBe(4)
    expect(onceExitCode(new WfmResponseError(401, null, null, 'onboarding'))).toBe(4)
    expect(onceExitCode(new WfmResponseError(503, null, null, 'manifest poll'))).toBe(5)
    expect(onceExitCode(new WfmResponseError(400, null, null, 'onboarding'))).toBe(1)
    expect(onceExitCode(new TrustError('mismatch', 'fingerprint_mismatch'))).toBe(4)
    expect(onceExitCode(new Error('anything else'))).toBe(1)
  })
})
