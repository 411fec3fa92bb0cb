import {describe, expect, test} from 'bun:test'
import {buildRolloutRequest, waitFailure, waitForRollout, waitProgress} from '../../../src/client/rollouts.ts'
import {UsageError} from '../../../src/util/errors.ts'
import type {OperatorClient} from '../../../src/client/operator-client.ts'
import type {Deployment, DeploymentState, RolloutResult} from '../../../src/operator-contract/views.ts'
import {outputContext} from '../../../src/cli/output.ts'
import {progressLine, progressPrinter} from '../../../src/cli/fleet/render.ts'

function deployment(id: string, state: DeploymentState | null, over: {updatedAt?: string, reportedAt?: string, error?: {code: string, message: string}} = {}): Deployment {
  return {
    deploymentId: id, clientId: `dev-${id}`, appId: 'app', appVersion: '1', profile: {id: 'p', type: 'compose'}, values: {}, digest: 'sha256:x', desired: 'present',
    createdAt: '2025-01-01T00:00:00.000Z', updatedAt: over.updatedAt ?? '2025-01-01T00:00:00.000Z',
    status: state ? {state, error: over.error ?? null, components: [], reportedAt: over.reportedAt ?? '2025-01-01T00:01:00.000Z'} : null,
  }
}
const targets = [{clientId: 'dev-a', deploymentId: 'a'}, {clientId: 'dev-b', deploymentId: 'b'}]

describe('waitProgress', () => {
  test('done when every target is installed', () => {
    const p = waitProgress(targets, [deployment('a', 'installed'), deployment('b', 'installed')])
    expect(p).toMatchObject({installed: 2, done: true, failed: []})
  })
  test('a report older than the deployment\'s last change does not count: an update must be reported again', () => {
    const p = waitProgress(targets, [deployment('a', 'installed', {updatedAt: '2025-01-01T00:02:00.000Z'}), deployment('b', null)])
    expect(p.targets.map(t => t.state)).toEqual(['unreported', 'unreported'])
    expect(p.done).toBe(false)
  })
  test('one failure ends the wait and carries the error', () => {
    const p = waitProgress(targets, [deployment('a', 'failed', {error: {code: 'E', message: 'boom'}}), deployment('b', 'installing')])
    expect(p.done).toBe(true)
    expect(p.failed).toEqual([{clientId: 'dev-a', deploymentId: 'a', state: 'failed', error: {code: 'E', message: 'boom'}}])
    expect(waitFailure({outcome: 'failed', progress: p}, '5m')!.message).toBe('deployment a failed on device dev-a: E: boom — see: margo status --device dev-a')
  })
  test('a target missing from the rollout (removed meanwhile) is unreported', () => {
    expect(waitProgress(targets, [deployment('a', 'installed')]).targets[1]!.state).toBe('unreported')
  })
})

describe('waitForRollout', () => {
  const result = {rolloutId: 'r1', targets: [{clientId: 'dev-a', deploymentId: 'a'}, {clientId: 'dev-b', deploymentId: null}]} as unknown as RolloutResult
  function clientAnswering(pages: Deployment[][]) {
    let i = 0
    const paths: string[] = []
    const client = {call: async (_m: string, path: string) => { paths.push(path); return {targets: pages[Math.min(i++, pages.length - 1)]} }} as unknown as OperatorClient
    return {client, paths}
  }

  test('polls once per interval until installed, reporting each poll', async () => {
    const {client, paths} = clientAnswering([[deployment('a', null)], [deployment('a', 'installing')], [deployment('a', 'installed')]])
    const sleeps: number[] = []
    const seen: string[] = []
    const outcome = await waitForRollout(client, result, {
      timeoutMs: 60_000, sleep: async ms => { sleeps.push(ms) }, now: () => 0, onProgress: p => seen.push(p.targets[0]!.state),
    })
    expect(outcome.outcome).toBe('installed')
    expect(seen).toEqual(['unreported', 'installing', 'installed'])
    expect(sleeps).toEqual([1000, 1000])
    expect(paths).toEqual(['/rollouts/r1', '/rollouts/r1', '/rollouts/r1'])
  })

  test('gives up at the deadline with what is still pending', async () => {
    const {client} = clientAnswering([[deployment('a', 'installing')]])
    let clock = 0
    const outcome = await waitForRollout(client, result, {timeoutMs: 3000, sleep: async ms => { clock += ms }, now: () => clock})
    expect(outcome.outcome).toBe('timeout')
    expect(clock).toBe(3000)
    expect(waitFailure(outcome, '3s')!.message).toStartWith('timed out after 3s: 0 of 1 installed; still waiting on dev-a (installing)')
  })

  test('an abort (Ctrl-C) ends the wait at once, even mid-sleep; the rollout goes on and the error says how to follow it (exit 130)', async () => {
    const {client, paths} = clientAnswering([[deployment('a', 'installing')]])
    const stop = new AbortController()
    const never = () => new Promise<void>(() => {})
    const waiting = waitForRollout(client, {...result, appId: 'app'}, {timeoutMs: 60_000, sleep: never, signal: stop.signal})
    await Bun.sleep(5)
    stop.abort()
    const outcome = await waiting
    expect(outcome.outcome).toBe('interrupted')
    expect(paths).toEqual(['/rollouts/r1'])
    const err = waitFailure(outcome, '5m')!
    expect(err.exitCode).toBe(130)
    // One target: its deployment id is what margo status follows.
    expect(err.message).toBe('interrupted — rollout r1 continues on the server; follow it with: margo status a --watch')

    // Several targets: the app's status shows them all.
    const aborted = AbortSignal.abort()
    const both = {...result, appId: 'app', targets: [{clientId: 'dev-a', deploymentId: 'a'}, {clientId: 'dev-b', deploymentId: 'b'}]} as unknown as RolloutResult
    const two = await waitForRollout(clientAnswering([[deployment('a', 'installing'), deployment('b', null)]]).client, both, {timeoutMs: 60_000, signal: aborted})
    expect(waitFailure(two, '5m')!.message).toBe('interrupted — rollout r1 continues on the server; follow it with: margo status app --watch')
  })
})

describe('progress output', () => {
  const progress = waitProgress(targets, [deployment('a', 'installed'), deployment('b', 'installing')])
  test('a bar with counts on a terminal', () => {
    const ctx = outputContext({isTTY: true, env: {NO_COLOR: '1'}})
    expect(progressLine(progress, ctx)).toBe(`${'█'.repeat(12)}${'░'.repeat(12)} 1/2 installed · 1 installing`)
  })
  test('piped: one line per state change, never the same line twice', () => {
    const out: string[] = []
    const printer = progressPrinter(outputContext({isTTY: false, env: {}}), t => out.push(t))
    printer.update(progress)
    printer.update(progress)
    printer.update(waitProgress(targets, [deployment('a', 'installed'), deployment('b', 'installed')]))
    printer.end()
    expect(out.join('')).toBe('dev-a\ta\tinstalled\ndev-b\tb\tinstalling\ndev-b\tb\tinstalled\n')
  })
})

describe('buildRolloutRequest', () => {
  test('a device list, deduplicated; values from the file and --set (which wins)', () => {
    expect(buildRolloutRequest({app: 'hello@2', devices: ['a', 'b', 'a'], profile: 'compose', set: ['greeting=Hi']}, {greeting: 'file', port: 80})).toEqual({
      appId: 'hello', version: '2', devices: ['a', 'b'], profile: 'compose', values: {greeting: 'Hi', port: 80},
    })
  })
  test('a selector (empty allowed) and a dry run', () => {
    expect(buildRolloutRequest({app: 'hello', selector: '', dryRun: true})).toEqual({appId: 'hello', selector: '', dryRun: true})
  })
  test('no target, two kinds of target, or an invalid selector are usage errors', () => {
    expect(() => buildRolloutRequest({app: 'hello'})).toThrow(UsageError)
    expect(() => buildRolloutRequest({app: 'hello', devices: ['a'], selector: 'x'})).toThrow(/either --device or --selector/)
    expect(() => buildRolloutRequest({app: 'hello', selector: 'a in b'})).toThrow(/column 6/)
  })
})
