import type {Config} from '@oclif/core'
import pjson from '../package.json' with {type: 'json'}

/** What oclif's user agent names: the bun the binary runs on, not node (see loadOclifConfig). */
export const userAgent = () => `${pjson.oclif.bin}/${pjson.version} ${process.platform}-${process.arch} bun-${Bun.version}`

/**
 * oclif's configuration for the margo command tree rooted at `root`. The compiled binary has no
 * package.json on disk, so oclif gets the one embedded at build time, and with it the command
 * manifest built then (commands/_manifest.ts): oclif imports only the command that runs, where
 * from source it imports every command class to describe the tree.
 */
export async function loadOclifConfig(root: string, compiled: boolean): Promise<Config> {
  const {Config} = await import('@oclif/core')
  const manifest = structuredClone(pjson) as typeof pjson
  if (compiled) manifest.oclif.commands.target = './commands/index.ts'
  // oclif builds its user agent (--version, the help's VERSION, the client's User-Agent) from
  // node's version, and run() loads the Config again; every load names the bun the binary runs on.
  const load = Config.prototype.load
  Config.prototype.load = async function (this: Config) {
    await load.call(this)
    this.userAgent = userAgent()
  }
  if (!compiled) return await Config.load({root, pjson: manifest as never})
  const {prebuiltPlugin} = await import('./_manifest.ts')
  return await Config.load({root, pjson: manifest as never, plugins: new Map([[manifest.name, prebuiltPlugin(root, manifest as never)]])})
}
