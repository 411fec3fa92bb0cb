import {describe, expect, test} from 'bun:test'
import {Errors} from '@oclif/core'
import {AuthError, ConflictError, NotFoundError, OperationError, UnreachableError, UsageError, ValidationError} from '../../../src/util/errors.ts'
import {exitCodeFor, formatError, isExitRequest, parseErrorSummary} from '../../../src/cli/errors.ts'

describe('exitCodeFor', () => {
  test.each([
    [new OperationError('x'), 1],
    [new ConflictError('x', {code: 'conflict'}), 1],
    [new UsageError('x'), 2],
    [new ValidationError('x'), 2],
    [new NotFoundError('x'), 3],
    [new AuthError('x'), 4],
    [new UnreachableError('x'), 5],
    [new Error('bug'), 1],
    ['string thrown', 1],
  ])('%p → %i', (err, code) => {
    expect(exitCodeFor(err)).toBe(code)
  })

  test('oclif parse errors keep their exit code 2', () => {
    const err = new Errors.CLIError('Missing required flag device', {exit: 2})
    expect(exitCodeFor(err)).toBe(2)
  })
})

describe('formatError', () => {
  test('one line for a margo error, no stack', () => {
    const out = formatError(new NotFoundError('device x not found — run: margo device list'), {verbose: false})
    expect(out).toBe('error: device x not found — run: margo device list')
  })

  test('validation details follow, one per line', () => {
    const err = new ValidationError('invalid parameters', [
      {path: 'values.port', message: 'must be an integer'},
      {path: '', message: 'document is empty'},
    ])
    expect(formatError(err, {verbose: false})).toBe('error: invalid parameters\n  values.port: must be an integer\n  (document): document is empty')
  })

  test('problems the message already names are not listed again', () => {
    const err = new ValidationError('parameter values are invalid: parameters.port: unknown parameter "port" — check the values against: margo app show x', [
      {path: 'parameters.port', message: 'unknown parameter "port"'},
    ])
    const out = formatError(err, {verbose: false})
    expect(out.split('unknown parameter "port"')).toHaveLength(2)
    expect(out).toStartWith('error: parameter values are invalid')
  })

  test('--verbose adds the cause chain', () => {
    const root = Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'})
    const err = new UnreachableError('cannot reach https://x', {cause: new Error('socket', {cause: root})})
    expect(formatError(err, {verbose: false})).toBe('error: cannot reach https://x')
    expect(formatError(err, {verbose: true}).split('\n')).toEqual([
      'error: cannot reach https://x',
      '  caused by: Error: socket',
      '  caused by: Error: connect ECONNREFUSED',
    ])
  })

  test('unexpected errors: one line by default, stack only with --verbose', () => {
    const bug = new TypeError('undefined is not a function')
    const quiet = formatError(bug, {verbose: false})
    expect(quiet).toBe('error: undefined is not a function (run with --verbose for details)')
    expect(formatError(bug, {verbose: true})).toContain('    at ')
  })

  test('oclif parse errors become one line with a help hint', () => {
    const err = new Errors.CLIError('Missing required flag device\nSee more help with --help', {exit: 2})
    expect(formatError(err, {verbose: false, command: 'deploy'})).toBe('error: Missing required flag device — see: margo deploy --help')
  })

  test('multi-line oclif messages fold into one line', () => {
    expect(parseErrorSummary('The following error occurred:\n  Missing required flag device\nSee more help with --help')).toBe('Missing required flag device')
    expect(parseErrorSummary('')).toBe('invalid command line')
  })

  test('exit requests are recognised as control flow', () => {
    let caught: unknown
    try {
      Errors.exit(3)
    } catch (e) {
      caught = e
    }
    expect(isExitRequest(caught)).toBe(true)
    expect(isExitRequest(new Error('x'))).toBe(false)
  })
})
