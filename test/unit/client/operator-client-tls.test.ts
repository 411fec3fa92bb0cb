import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {UnreachableError} from '../../../src/util/errors.ts'
import {OperatorClient} from '../../../src/client/operator-client.ts'
import {type FakeOperator, TOKEN, startFakeOperator} from './fake-operator.ts'

const openssl = Bun.which('openssl')
let dir: string
let fake: FakeOperator
let caPem: string

function run(args: string[]) {
  const r = Bun.spawnSync([openssl!, ...args], {cwd: dir, stderr: 'pipe'})
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`)
}

describe.skipIf(!openssl)('OperatorClient over HTTPS', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'margo-tls-'))
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
    run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=margo test CA', '-days', '1',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'])
    run(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'])
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n')
    run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'san.ext'])
    caPem = readFileSync(join(dir, 'ca.pem'), 'utf8')
    fake = startFakeOperator({tls: {cert: readFileSync(join(dir, 'server.pem'), 'utf8'), key: readFileSync(join(dir, 'server.key'), 'utf8')}})
  })
  afterAll(() => {
    fake?.stop()
    rmSync(dir, {recursive: true, force: true})
  })

  test('trusts the server when given its CA', async () => {
    const client = new OperatorClient({baseUrl: fake.operatorUrl, token: TOKEN, ca: caPem, origin: {server: 'test', token: 'test', ca: 'ca.pem'}})
    expect((await client.health()).version).toBe('0.1.0')
  })

  test('refuses the server without its CA, and says to pass --ca-file', async () => {
    const client = new OperatorClient({baseUrl: fake.operatorUrl, token: TOKEN, origin: {server: 'test', token: 'test'}})
    const err = await client.health().catch(e => e)
    expect(err).toBeInstanceOf(UnreachableError)
    expect(err.message).toContain('TLS')
    expect(err.message).toContain('no CA file is configured')
    expect(err.message).toContain('--ca-file')
  })

  test('an http:// URL for the HTTPS server says the server speaks HTTPS and gives the https:// URL', async () => {
    const plain = fake.operatorUrl.replace('https://', 'http://')
    const client = new OperatorClient({baseUrl: plain, token: TOKEN, ca: caPem, origin: {server: '--server', token: 'test'}})
    const err = await client.health().catch(e => e)
    expect(err).toBeInstanceOf(UnreachableError)
    expect(err.message).toContain('speaks HTTPS')
    expect(err.message).toContain(fake.operatorUrl.replace('/operator/v1', ''))
    expect(err.message).not.toContain('\n')
  })
})
