import {afterEach, describe, expect, test} from 'bun:test'
import {join} from 'node:path'
import {oclifRootHelp} from '../../../commands/_root-help.macro.ts'
// Not commands/_root-help.ts: its macro's value may come from the runtime's transpiler cache when run from source.
import {fillRootHelp, servesRootHelp} from '../../../src/cli/root-help-serve.ts'

const MAIN = join(import.meta.dir, '..', '..', '..', 'src', 'main.ts')
const forced = process.env.FORCE_COLOR
afterEach(() => {
  if (forced === undefined) delete process.env.FORCE_COLOR
  else process.env.FORCE_COLOR = forced
})

describe('the precomputed root help', () => {
  test('is what oclif prints for margo --help into a pipe, whatever the environment of the build', () => {
    // From source, main.ts always runs oclif.
    const env = {...process.env}
    delete env.OCLIF_COLUMNS
    delete env.FORCE_COLOR
    const oclif = Bun.spawnSync([process.execPath, MAIN, '--help'], {stdout: 'pipe', stderr: 'pipe', env})
    expect(oclif.exitCode).toBe(0)
    process.env.FORCE_COLOR = '1'
    process.env.OCLIF_COLUMNS = '132'
    try {
      const built = oclifRootHelp()
      expect(built.text).toBe(oclif.stdout.toString())
      expect(built.text).toContain(built.userAgent)
    } finally {
      delete process.env.OCLIF_COLUMNS
    }
  })

  test('names the running binary\'s platform and runtime, not the build host\'s', () => {
    const built = {text: 'margo\n\nVERSION\n  margo/1.0.0 linux-x64 bun-1.4.5\n', userAgent: 'margo/1.0.0 linux-x64 bun-1.4.5'}
    expect(fillRootHelp(built, 'margo/1.0.0 linux-arm64 bun-1.4.5')).toBe('margo\n\nVERSION\n  margo/1.0.0 linux-arm64 bun-1.4.5\n')
  })

  test('is served only for exactly --help into a pipe, with nothing set that changes how oclif renders it', () => {
    expect(servesRootHelp(['--help'], {}, false)).toBe(true)
    expect(servesRootHelp(['--help'], {NO_COLOR: '1', TERM: 'xterm-256color', CI: '1'}, false)).toBe(true)
    expect(servesRootHelp(['--help'], {}, true)).toBe(false)
    for (const name of ['OCLIF_COLUMNS', 'FORCE_COLOR', 'NEXT_RUNTIME', 'pm_id']) expect(servesRootHelp(['--help'], {[name]: '1'}, false)).toBe(false)
    for (const argv of [[], ['-h'], ['--help', '--verbose'], ['device', '--help'], ['help']]) expect(servesRootHelp(argv, {}, false)).toBe(false)
  })
})
