#!/usr/bin/env bun
/**
 * Signed manifest polls per second on the 304 path against the compiled `margo serve` on
 * loopback, and the cost of one RFC 9421 signature verification, in one run.
 *
 *   bun bench/poll.ts [--seconds 5] [--devices 8] [--concurrency 16]
 *
 * Requests are signed ahead of time (a signature stays valid for the server's 300 s window), so
 * the client's two cores are spent on HTTP rather than on signing; the server still verifies
 * every request in full.
 */
import {parseArgs} from 'node:util'
import {signRequest, verifyRequest, generateKeyPair, type KeyType} from '../src/signing/index.ts'
import {TestDevice} from '../test/server/harness.ts'
import {startServe} from '../test/e2e/binary.ts'

const {values} = parseArgs({options: {seconds: {type: 'string', default: '5'}, devices: {type: 'string', default: '8'}, concurrency: {type: 'string', default: '16'}}})
const seconds = Number(values.seconds)
const deviceCount = Number(values.devices)
const concurrency = Number(values.concurrency)

async function verificationCost(keyType: KeyType, iterations: number) {
  const keys = generateKeyPair(keyType)
  const url = 'https://127.0.0.1:8443/api/v1/clients/3f0c2a9e-0000-4000-8000-000000000000/deployments'
  const headers = await signRequest({method: 'GET', url}, {privateKey: keys.privateKey, keyId: 'bench'})
  const req = {method: 'GET', url, headers, body: new Uint8Array(0)}
  for (let i = 0; i < 200; i++) await verifyRequest(req, {publicKey: keys.publicKey})
  const start = performance.now()
  for (let i = 0; i < iterations; i++) {
    const r = await verifyRequest(req, {publicKey: keys.publicKey})
    if (!r.ok) throw new Error(`verification failed: ${r.reason}`)
  }
  return ((performance.now() - start) * 1000) / iterations
}

const server = await startServe(['--log-level', 'warn'])
try {
  const t = server.transport()
  const pool: {url: string, headers: Record<string, string>}[] = []
  for (let i = 0; i < deviceCount; i++) {
    const d = await TestDevice.create(t)
    await d.onboard()
    const first = await d.send('GET', '/api/v1/clients/{clientId}/deployments')
    const etag = first.headers.get('etag')!
    const url = `${server.url}/api/v1/clients/${d.clientId}/deployments`
    const signed = await signRequest({method: 'GET', url}, {privateKey: d.privateKey, keyId: d.clientId})
    pool.push({url, headers: {...signed, accept: 'application/vnd.margo.manifest.v1+json', 'if-none-match': etag}})
  }

  let ok = 0
  let other = 0
  const until = performance.now() + seconds * 1000
  const worker = async (n: number) => {
    let i = n
    while (performance.now() < until) {
      const p = pool[i++ % pool.length]!
      const res = await fetch(p.url, {headers: p.headers, tls: {ca: server.ca}})
      await res.arrayBuffer()
      if (res.status === 304) ok++
      else other++
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({length: concurrency}, (_, n) => worker(n)))
  const elapsed = (performance.now() - started) / 1000
  if (other > 0) throw new Error(`${other} polls did not answer 304`)

  const p256 = await verificationCost('p256', 3000)
  const rsa = await verificationCost('rsa2048', 3000)
  const result = {
    pollsPerSecond: Math.round(ok / elapsed),
    polls: ok,
    seconds: Number(elapsed.toFixed(2)),
    devices: deviceCount,
    concurrency,
    verifyMicroseconds: {'ecdsa-p256-sha256': Number(p256.toFixed(1)), 'rsa-v1_5-sha256': Number(rsa.toFixed(1))},
  }
  console.log(JSON.stringify(result))
  console.error(`signed 304 polls: ${result.pollsPerSecond}/s over ${result.seconds}s (${deviceCount} devices, ${concurrency} in flight)`)
  console.error(`one signature verification: ${result.verifyMicroseconds['ecdsa-p256-sha256']} µs (P-256), ${result.verifyMicroseconds['rsa-v1_5-sha256']} µs (RSA-2048)`)
} finally {
  await server.stop()
}
