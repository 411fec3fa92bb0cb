#!/usr/bin/env bun
// Embedded at build time: the compiled binary has no package.json on disk.
import pjson from '../package.json' with {type: 'json'}

const argv = process.argv.slice(2)
// The long-running agent starts without the command tree; see commands/_agent-fast-path.ts.
const handled = argv[0] === 'agent' && await (await import('../commands/_agent-fast-path.ts')).agentFastPath(argv.slice(1))

// In the compiled binary every entrypoint sits flat under /$bunfs/root, so the commands
// module is a sibling of this file; from source it lives in ../commands.
const compiled = import.meta.dirname.includes('$bunfs')
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
