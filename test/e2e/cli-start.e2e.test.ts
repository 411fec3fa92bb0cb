import {afterAll, describe, expect, test} from 'bun:test'
import {copyFileSync, linkSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import COMMANDS from '../../commands/index.ts'
import pjson from '../../package.json' with {type: 'json'}
import {ensureBinary} from './binary.ts'

const MAIN = join(import.meta.dir, '..', '..', 'src', 'main.ts')

interface Run {
  code: number
  stdout: string
  stderr: string
}

const env = () => {
  const e: Record<string, string | undefined> = {...process.env, NO_COLOR: '1'}
  for (const name of ['OCLIF_COLUMNS', 'FORCE_COLOR']) delete e[name]
  return e
}

async function run(argv: string[]): Promise<Run> {
  const proc = Bun.spawn(argv, {stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: env()})
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return {code, stdout, stderr}
}

/**
 * The binary, linked into a directory of its own: some defaults depend on what lies beside the
 * executable (serve's --release-dir is `release/` next to it, present once `bun run release` ran),
 * and from source the executable is bun.
 */
const isolated: string[] = []
afterAll(() => { for (const dir of isolated) rmSync(dir, {recursive: true, force: true}) })

function isolatedBinary(): string {
  const dir = mkdtempSync(join(tmpdir(), 'margo-cli-start-'))
  isolated.push(dir)
  const bin = join(dir, 'margo')
  try { linkSync(ensureBinary(), bin) } catch { copyFileSync(ensureBinary(), bin) }
  return bin
}

/** `args` run by the compiled binary and from source, a few at a time. */
async function both(cases: string[][]): Promise<{args: string[], binary: Run, source: Run}[]> {
  const bin = isolatedBinary()
  const results: {args: string[], binary: Run, source: Run}[] = []
  for (let i = 0; i < cases.length; i += 4) {
    results.push(...await Promise.all(cases.slice(i, i + 4).map(async args => ({args, binary: await run([bin, ...args]), source: await run([process.execPath, MAIN, ...args])}))))
  }
  return results
}

describe('the compiled binary loads one command, from a manifest built with it', () => {
  test('--help of every command and topic is what margo prints from source', async () => {
    const subjects = [...Object.keys(COMMANDS), ...Object.keys(pjson.oclif.topics)].map(id => [...id.split(':'), '--help'])
    for (const {args, binary, source} of await both(subjects)) {
      expect({args, ...binary}).toEqual({args, ...source})
      expect({args, code: binary.code}).toEqual({args, code: 0})
    }
  }, 120_000)

  test('version, topics, unknown commands and flags, missing arguments: same output and exit code as from source', async () => {
    const cases = [['--version'], ['device'], ['help', 'device', 'list'], ['device', 'nope'], ['nope'], ['device', 'list', '--bogus'], ['device', 'show'], ['deploy', '--selector'], ['serve', '--workers', '0'], ['device', 'list', '--server', 'http://127.0.0.1:1', '--token', 't']]
    for (const {args, binary, source} of await both(cases)) expect({args, ...binary}).toEqual({args, ...source})
  }, 60_000)
})
