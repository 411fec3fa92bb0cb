#!/usr/bin/env bun
/**
 * Start-up cost of the compiled `margo` for `--help` and for one simple operator command
 * (`margo device list --json` against a running server), against a compiled Bun hello-world
 * built in the same run: median wall time and peak RSS over several runs each.
 *
 *   bun bench/cli.ts [--runs 15]
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import {BIN, ensureBinary, startServe} from '../test/e2e/binary.ts'

const {values} = parseArgs({options: {runs: {type: 'string', default: '15'}}})
const runs = Number(values.runs)
const work = mkdtempSync(join(tmpdir(), 'margo-bench-cli-'))

writeFileSync(join(work, 'hello.ts'), "console.log('hello world')\n")
const built = Bun.spawnSync([process.execPath, 'build', '--compile', '--minify', '--bytecode', '--format=esm', join(work, 'hello.ts'), '--outfile', join(work, 'hello')], {stdout: 'pipe', stderr: 'pipe'})
if (built.exitCode !== 0) throw new Error(built.stderr.toString())
ensureBinary()

/** Median wall milliseconds and median peak RSS (MiB, from GNU time when present) of `argv`. */
function measure(argv: string[]) {
  const walls: number[] = []
  const peaks: number[] = []
  const timeBin = Bun.which('time') ?? (Bun.spawnSync(['test', '-x', '/usr/bin/time']).exitCode === 0 ? '/usr/bin/time' : null)
  for (let i = 0; i < runs + 2; i++) {
    const t0 = performance.now()
    const r = timeBin
      ? Bun.spawnSync([timeBin, '-f', 'PEAKKB %M', ...argv], {stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1'}})
      : Bun.spawnSync(argv, {stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1'}})
    const wall = performance.now() - t0
    if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} exited ${r.exitCode}: ${r.stderr.toString()}`)
    if (i < 2) continue // warm the page cache
    walls.push(wall)
    const peak = /PEAKKB (\d+)/.exec(r.stderr.toString())
    if (peak) peaks.push(Number(peak[1]) / 1024)
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN
  return {wallMs: Number(median(walls).toFixed(1)), peakRssMiB: Number(median(peaks).toFixed(1))}
}

const server = await startServe(['--log-level', 'warn'])
try {
  const hello = measure([join(work, 'hello')])
  const help = measure([BIN, '--help'])
  const deviceList = measure([BIN, 'device', 'list', '--json', '--data-dir', server.dataDir])
  const ratio = (m: {wallMs: number}) => Number((m.wallMs / hello.wallMs).toFixed(2))
  const result = {
    helloWorld: hello,
    help: {...help, timesHelloWorld: ratio(help)},
    deviceList: {...deviceList, timesHelloWorld: ratio(deviceList)},
    runs,
  }
  console.log(JSON.stringify(result))
  console.error(`compiled hello-world: ${hello.wallMs} ms, ${hello.peakRssMiB} MiB peak`)
  console.error(`margo --help: ${help.wallMs} ms (${result.help.timesHelloWorld}×), ${help.peakRssMiB} MiB peak`)
  console.error(`margo device list --json: ${deviceList.wallMs} ms (${result.deviceList.timesHelloWorld}×), ${deviceList.peakRssMiB} MiB peak`)
} finally {
  await server.stop()
}
