import {beforeAll, describe, expect, test} from 'bun:test'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {type Command, Config, Help, type Interfaces} from '@oclif/core'
import oclifPjson from '@oclif/core/package.json' with {type: 'json'}
import {COMMAND_LOADERS} from '../../../commands/_command-loaders.ts'
import {manifestFromSource, oclifManifest} from '../../../commands/_manifest.macro.ts'
import {loadOclifConfig} from '../../../commands/_oclif-config.ts'
import {type CommandLoaders, PrebuiltPlugin} from '../../../commands/_prebuilt-plugin.ts'
import COMMANDS from '../../../commands/index.ts'
import pjson from '../../../package.json' with {type: 'json'}

const SRC = join(import.meta.dir, '..', '..', '..', 'src')
let manifest: Interfaces.Manifest
let fromClasses: Config

beforeAll(async () => {
  manifest = await manifestFromSource()
  fromClasses = await loadOclifConfig(SRC, false)
})

/** A config on the prebuilt plugin, as the compiled binary loads it; `loaded` records what it imports. */
async function prebuiltConfig(loaders: CommandLoaders = COMMAND_LOADERS, loaded: string[] = []) {
  const spied = Object.fromEntries(Object.entries(loaders).map(([id, load]) => [id, () => {
    loaded.push(id)
    return load()
  }]))
  const everyCommand = async () => {
    loaded.push('*')
    return COMMANDS
  }
  const plugin = new PrebuiltPlugin({root: SRC, pjson: pjson as never, base: `${oclifPjson.name}@${oclifPjson.version}`}, manifest, spied, everyCommand)
  return await Config.load({root: SRC, pjson: pjson as never, plugins: new Map([[pjson.name, plugin]])})
}

/** What oclif's help prints for `argv`. */
async function helpText(config: Config, argv: string[]): Promise<string> {
  const write = process.stdout.write
  let out = ''
  process.stdout.write = ((chunk: string) => {
    out += chunk
    return true
  }) as typeof process.stdout.write
  try {
    await new Help(config).showHelp(argv)
  } finally {
    process.stdout.write = write
  }
  return out
}

const withoutLoad = (commands: Command.Loadable[]) => commands.map(({load: _, ...c}) => c)

describe('the command tree of the compiled binary', () => {
  test('has a loader for every command, importing the class commands/index.ts registers', async () => {
    expect(Object.keys(COMMAND_LOADERS).sort()).toEqual(Object.keys(COMMANDS).sort())
    for (const [id, load] of Object.entries(COMMAND_LOADERS)) expect({id, same: (await load()).default === COMMANDS[id as keyof typeof COMMANDS]}).toEqual({id, same: true})
  })

  test('is described by the manifest oclif builds from the classes, whatever the environment of the build', () => {
    const home = mkdtempSync(join(tmpdir(), 'margo-manifest-'))
    try {
      const elsewhere = oclifManifest({PATH: process.env.PATH, HOME: home, XDG_DATA_HOME: join(home, 'd'), XDG_CONFIG_HOME: join(home, 'c'), MARGO_DATA_DIR: join(home, 'data'), MARGO_WORKERS: '3', MARGO_LISTEN: '127.0.0.1:1'})
      // Defaults oclif marks dynamic are computed again when help is shown (and the class parses them), never read from the manifest.
      const fixed = (m: Interfaces.Manifest) => JSON.parse(JSON.stringify(m, (_, value) => value?.hasDynamicHelp === true && Object.hasOwn(value, 'default') ? {...value, default: '(at run time)'} : value))
      expect(fixed(elsewhere)).toEqual(fixed(manifest))
      expect(Object.keys(manifest.commands)).toEqual(Object.keys(COMMANDS))
    } finally {
      rmSync(home, {recursive: true, force: true})
    }
  })

  test('loads into the same oclif config as the classes do: commands, topics, plugin', async () => {
    const prebuilt = await prebuiltConfig()
    expect(withoutLoad(prebuilt.commands)).toEqual(withoutLoad(fromClasses.commands))
    expect(prebuilt.commandIDs).toEqual(fromClasses.commandIDs)
    expect(prebuilt.topics).toEqual(fromClasses.topics)
    expect(prebuilt.userAgent).toBe(fromClasses.userAgent)
    const fields = (p: Interfaces.Plugin) => ({name: p.name, alias: p.alias, version: p.version, type: p.type, valid: p.valid, isRoot: p.isRoot, moduleType: p.moduleType, hooks: p.hooks, topics: p.topics, commandIDs: p.commandIDs, base: p._base, root: p.root, commandsDir: p.commandsDir})
    expect(fields(prebuilt.plugins.get(pjson.name)!)).toEqual(fields(fromClasses.plugins.get(pjson.name)!))
  })

  test('prints the same help for every command and topic, importing no command but those with defaults computed at run time', async () => {
    const loaded: string[] = []
    const prebuilt = await prebuiltConfig(COMMAND_LOADERS, loaded)
    const subjects = [...Object.keys(COMMANDS), ...fromClasses.topics.map(t => t.name)].map(id => id.split(':'))
    for (const argv of subjects) expect({argv, help: await helpText(prebuilt, argv)}).toEqual({argv, help: await helpText(fromClasses, argv)})
    const dynamic = Object.entries(manifest.commands).filter(([, c]) => c.hasDynamicHelp).map(([id]) => id)
    expect(dynamic.length).toBeGreaterThan(0)
    expect([...new Set(loaded)].sort()).toEqual(dynamic.sort())
  })

  test('imports only the command that runs', async () => {
    const loaded: string[] = []
    const prebuilt = await prebuiltConfig(COMMAND_LOADERS, loaded)
    const cmd = await prebuilt.findCommand('device:list', {must: true}).load()
    expect(cmd).toBe(COMMANDS['device:list'] as unknown as Command.Class)
    expect(cmd.id).toBe('device:list')
    expect(loaded).toEqual(['device:list'])
  })

  test('finds a command without a loader in the whole tree, and reports an unknown one as oclif does', async () => {
    const loaded: string[] = []
    const {'device:list': _, ...loaders} = COMMAND_LOADERS
    const prebuilt = await prebuiltConfig(loaders, loaded)
    expect(await prebuilt.findCommand('device:list', {must: true}).load()).toBe(COMMANDS['device:list'] as unknown as Command.Class)
    expect(loaded).toEqual(['*'])
    const plugin = prebuilt.plugins.get(pjson.name)!
    expect(plugin.findCommand('device:nope', {must: true})).rejects.toThrow('command device:nope not found')
    expect(await plugin.findCommand('device:nope')).toBeUndefined()
  })
})
