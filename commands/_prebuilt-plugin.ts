import {type Command, Errors, type Interfaces} from '@oclif/core'

export type CommandLoaders = Record<string, () => Promise<{default: typeof Command}>>

type Topics = Record<string, {description?: string, hidden?: boolean, subtopics?: Topics}>

/** oclif's topics from package.json, flattened as its own plugin does (`a:b` for subtopics). */
function topicList(topics: Topics | undefined, base = ''): Interfaces.Topic[] {
  return Object.entries(topics ?? {}).flatMap(([name, topic]) => {
    const id = `${base}${name}`
    const {subtopics, ...rest} = topic
    return [{...rest, name: id}, ...topicList(subtopics, `${id}:`)]
  })
}

/**
 * The margo command tree as an oclif root plugin built from a manifest computed ahead of time,
 * instead of from every command class: listing commands, finding one and rendering help read the
 * manifest, and a command's module is imported only to run it (or for help whose defaults are
 * computed at run time). Its fields are those oclif's own plugin has for the same package.json.
 */
export class PrebuiltPlugin implements Interfaces.Plugin {
  _base: string
  alias: string
  commandIDs: string[]
  commands: Command.Loadable[]
  commandsDir = undefined
  hasManifest = true
  hooks = {}
  isRoot = true
  moduleType = 'module' as const
  name: string
  options: Interfaces.Options
  pjson: Interfaces.PJSON
  root: string
  type = 'core'
  valid = true
  version: string

  constructor(
    options: {root: string, pjson: Interfaces.PJSON, base: string},
    manifest: Interfaces.Manifest,
    private readonly loaders: CommandLoaders,
    /** Where a command without a loader is found: the whole tree. */
    private readonly everyCommand: () => Promise<Record<string, typeof Command>>,
  ) {
    this.options = {root: options.root, pjson: options.pjson, isRoot: true}
    this._base = options.base
    this.root = options.root
    this.pjson = options.pjson
    this.name = options.pjson.name
    this.alias = options.pjson.name
    this.version = options.pjson.version
    this.commandIDs = Object.keys(manifest.commands)
    this.commands = Object.entries(manifest.commands)
      .map(([id, c]) => ({...c, load: async () => this.findCommand(id, {must: true}), pluginAlias: this.alias, pluginType: c.pluginType === 'jit' ? 'jit' : this.type}))
      .sort((a, b) => a.id.localeCompare(b.id))
  }

  get topics(): Interfaces.Topic[] {
    return topicList(this.pjson.oclif.topics as Topics | undefined)
  }

  async load(): Promise<void> {}

  findCommand(id: string, opts: {must: true}): Promise<Command.Class>
  findCommand(id: string, opts?: {must: boolean}): Promise<Command.Class>
  async findCommand(id: string, opts: {must?: boolean} = {}): Promise<Command.Class> {
    const load = this.loaders[id]
    const cmd = (load ? (await load()).default : (await this.everyCommand())[id]) as Command.Class | undefined
    if (!cmd) {
      if (opts.must) Errors.error(`command ${id} not found`)
      return undefined as never
    }
    cmd.id = id
    cmd.plugin = this
    return cmd
  }
}
