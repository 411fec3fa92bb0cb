#!/usr/bin/env bun
// Embedded at build time: the compiled binary has no package.json on disk.
import pjson from '../package.json' with {type: 'json'}

const argv = process.argv.slice(2)
// In the compiled binary every entrypoint sits flat under /$bunfs/root, so the commands
// module is a sibling of this file; from source it lives in ../commands.
const compiled = import.meta.dirname.includes('$bunfs')

// `margo agent` sleeps between polls for months and does little JavaScript when awake, so it runs
// without JavaScriptCore's JIT: the compilers, their thunks and the machine code they make would
// stay resident (about 3 MiB). The switch is read when the runtime starts, hence one re-exec in
// place (same pid); BUN_JSC_useJIT in the environment, either value, is left as given.
if (compiled && argv[0] === 'agent' && !/^[a-z]/.test(argv[1] ?? '') && process.env.BUN_JSC_useJIT === undefined) {
  try {
    process.execve?.(process.execPath, [process.execPath, ...argv], {...process.env, BUN_JSC_useJIT: '0'})
  } catch {
    // Runs with the JIT instead: more memory, same behaviour.
  }
}

// The long-running agent starts without the command tree; see commands/_agent-fast-path.ts.
const handled = argv[0] === 'agent' && await (await import('../commands/_agent-fast-path.ts')).agentFastPath(argv.slice(1))
const manifest = structuredClone(pjson) as typeof pjson
if (compiled) manifest.oclif.commands.target = './commands/index.ts'

if (!handled) {
  const {Config, flush, handle, run} = await import('@oclif/core')
  // oclif builds its user agent (--version, the help's VERSION, the client's User-Agent) from
  // node's version, and run() loads the Config again; every load names the bun the binary runs on.
  const load = Config.prototype.load
  Config.prototype.load = async function (this: InstanceType<typeof Config>) {
    await load.call(this)
    this.userAgent = `${this.name}/${this.version} ${this.platform}-${this.arch} bun-${Bun.version}`
  }

  const config = await Config.load({root: import.meta.dirname, pjson: manifest as never})
  await run(argv, config).then(() => flush()).catch(handle)
}
