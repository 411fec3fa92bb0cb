import {describe, expect, test} from 'bun:test'
import {DriverError} from '../../../src/agent/drivers/errors.ts'
import {WfmResponseError} from '../../../src/agent/runtime/errors.ts'
import {exitCodeFor, formatError} from '../../../src/cli/errors.ts'
import {OciError} from '../../../src/oci/errors.ts'
import {GitError} from '../../../src/server/registries/git.ts'
import {parseListen, ServeError} from '../../../src/server/serve.ts'
import {TlsSetupError} from '../../../src/server/tls-material.ts'
import {MargoError} from '../../../src/util/errors.ts'

// Errors raised below the command layer end a command with the exit code of the CLI conventions
// and print as one `error:` line, like every other margo failure.
describe('errors from the server, registries, drivers and the agent', () => {
  test.each<[string, number, unknown]>([
    ['OciError(auth)', 4, new OciError('auth', 'x')],
    ['OciError(not_found)', 3, new OciError('not_found', 'x')],
    ['OciError(unreachable)', 5, new OciError('unreachable', 'x')],
    ['OciError(usage)', 2, new OciError('usage', 'x')],
    ['OciError(integrity)', 1, new OciError('integrity', 'x')],
    ['OciError(protocol)', 1, new OciError('protocol', 'x')],
    ['GitError', 1, new GitError('x')],
    ['DriverError(HELM_INSTALL_FAILED)', 1, new DriverError('HELM_INSTALL_FAILED', 'x')],
    ['ServeError', 1, new ServeError('x')],
    ['ServeError(…, 2)', 2, new ServeError('x', 2)],
    ['TlsSetupError', 2, new TlsSetupError('x')],
    ['WfmResponseError(401)', 4, new WfmResponseError(401, null, null, 'x')],
    ['WfmResponseError(403)', 4, new WfmResponseError(403, null, {detail: 'pending approval'}, 'x')],
    ['WfmResponseError(404)', 3, new WfmResponseError(404, null, null, 'x')],
    ['WfmResponseError(503)', 1, new WfmResponseError(503, null, null, 'x')],
  ])('%s → exit %i', (_, code, err) => {
    expect(err).toBeInstanceOf(MargoError)
    expect(exitCodeFor(err)).toBe(code)
  })

  test('a bad --listen is a usage error printed on one line', () => {
    let err: unknown
    try { parseListen('8443') } catch (e) { err = e }
    expect(exitCodeFor(err)).toBe(2)
    expect(formatError(err, {verbose: false})).toBe('error: --listen 8443 is not HOST:PORT (examples: 0.0.0.0:443, :8443, 127.0.0.1:8443, [::1]:8443)')
  })

  test('machine codes stay what callers already read', () => {
    expect(new DriverError('PACKAGE_INVALID', 'x').code).toBe('PACKAGE_INVALID')
    expect(new DriverError('PACKAGE_INVALID', 'x').toReported()).toEqual({code: 'PACKAGE_INVALID', message: 'x'})
    expect(new OciError('auth', 'x', {status: 401})).toMatchObject({kind: 'auth', status: 401, code: 'oci_auth', name: 'OciError'})
  })
})
