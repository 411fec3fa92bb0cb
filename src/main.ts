#!/usr/bin/env bun
import {Config, flush, handle, run} from '@oclif/core'
// Embedded at build time: the compiled binary has no package.json on disk.
import pjson from '../package.json' with {type: 'json'}

// In the compiled binary every entrypoint sits flat under /$bunfs/root, so the commands
// module is a sibling of this file; from source it lives in ../commands.
const compiled = import.meta.dirname.includes('$bunfs')
const manifest = structuredClone(pjson) as typeof pjson
if (compiled) manifest.oclif.commands.target = './commands/index.ts'

// oclif builds its user agent (--version, the help's VERSION, the client's User-Agent) from
// node's version, and run() loads the Config again; every load names the bun the binary runs on.
const load = Config.prototype.load
Config.prototype.load = async function (this: Config) {
  await load.call(this)
  this.userAgent = `${this.name}/${this.version} ${this.platform}-${this.arch} bun-${Bun.version}`
}

const config = await Config.load({root: import.meta.dirname, pjson: manifest as never})
await run(process.argv.slice(2), config).then(() => flush()).catch(handle)
