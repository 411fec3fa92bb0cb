/**
 * The compiled binary's command tree: oclif's manifest, computed from every command class when
 * the binary was built, and one loader per command (see commands/_prebuilt-plugin.ts). Never
 * imported from source, where oclif builds the manifest itself.
 */
import type {Interfaces} from '@oclif/core'
import oclifPjson from '@oclif/core/package.json' with {type: 'json'}
import {COMMAND_LOADERS} from './_command-loaders.ts'
import {oclifManifest} from './_manifest.macro.ts' with {type: 'macro'}
import {PrebuiltPlugin} from './_prebuilt-plugin.ts'

// Run by the bundler: what remains in the binary is its value.
const built: Interfaces.Manifest = oclifManifest()

export const prebuiltPlugin = (root: string, pjson: Interfaces.PJSON) =>
  new PrebuiltPlugin({root, pjson, base: `${oclifPjson.name}@${oclifPjson.version}`}, built, COMMAND_LOADERS, async () => (await import('./index.ts')).COMMANDS)
