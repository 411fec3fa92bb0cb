import {describe, expect, test} from 'bun:test'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {simulateOptions, type SimulateFlags} from '../../../src/simulate/index.ts'

const caFile = join(mkdtempSync(join(tmpdir(), 'margo-sim-opts-')), 'ca.pem')
writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')
const base: SimulateFlags = {
  server: 'https://127.0.0.1:8443/', caFile, devices: 10, pollInterval: '30s', applyTime: '1s..5s', failRate: '5%', offlineRate: '0',
  offlineTime: '1m..5m', labels: ['site=plant-{1..2}'], keyType: 'p256', concurrency: 256, json: false, logLevel: 'error',
}

describe('margo simulate flags', () => {
  test('are read into options', () => {
    const o = simulateOptions(base)
    expect(o.server).toBe('https://127.0.0.1:8443')
    expect(o.pollIntervalMs).toBe(30_000)
    expect(o.applyTime).toEqual({minMs: 1000, maxMs: 5000})
    expect(o.failRate).toBe(0.05)
    expect(o.labelsFor?.(1)).toEqual({site: 'plant-2'})
    expect(o.durationMs).toBeUndefined()
  })

  test('each mistake names its flag', () => {
    expect(() => simulateOptions({...base, server: 'http://127.0.0.1:8443'})).toThrow(/https/)
    expect(() => simulateOptions({...base, devices: 0})).toThrow(/--devices/)
    expect(() => simulateOptions({...base, pollInterval: '10ms'})).toThrow(/--poll-interval/)
    expect(() => simulateOptions({...base, failRate: '2'})).toThrow(/--fail-rate/)
    expect(() => simulateOptions({...base, duration: 'later'})).toThrow(/--duration/)
    expect(() => simulateOptions({...base, caFile: '/nonexistent/ca.pem'})).toThrow(/--ca-file/)
  })
})
