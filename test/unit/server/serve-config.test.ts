import {expect, test} from 'bun:test'
import {renderServeConfig, settingSource} from '../../../src/server/serve-config.ts'

test('a setting comes from its flag, else its environment variable, else the default', () => {
  expect(settingSource('listen', ['serve', '--listen', ':8443'], {MARGO_LISTEN: ':9443'}, 'MARGO_LISTEN')).toBe('flag')
  expect(settingSource('listen', ['serve', '--listen=:8443'], {}, 'MARGO_LISTEN')).toBe('flag')
  expect(settingSource('listen', ['serve'], {MARGO_LISTEN: ':9443'}, 'MARGO_LISTEN')).toBe('env')
  expect(settingSource('listen', ['serve'], {MARGO_LISTEN: ''}, 'MARGO_LISTEN')).toBe('default')
  expect(settingSource('san', ['serve'], {}, undefined)).toBe('default')
})

test('--print-config lists every setting with its source, and unset ones as comments', () => {
  const out = renderServeConfig({listen: ':8443', 'base-path': '', san: ['a', 'b'], 'tls-cert': undefined, 'max-body-bytes': 1024}, {listen: 'flag', san: 'flag'})
  expect(out.split('\n')).toEqual([
    'listen: ":8443"  # from flag',
    'base-path: ""  # from default',
    'san: ["a", "b"]  # from flag',
    '# tls-cert: (not set)',
    'max-body-bytes: 1024  # from default',
  ])
})
