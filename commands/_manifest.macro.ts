/**
 * Build-time half of the compiled binary's command manifest (commands/_manifest.ts): the manifest
 * oclif builds from every command class when it loads the tree from source, serialised as oclif
 * itself writes `oclif.manifest.json`. A fresh process computes it, so nothing of the bundler's
 * state shapes it.
 */
import {join} from 'node:path'
import type {Interfaces, Plugin} from '@oclif/core'
import {loadOclifConfig} from './_oclif-config.ts'

/** oclif's manifest of the command tree, from source. */
export async function manifestFromSource(): Promise<Interfaces.Manifest> {
  const config = await loadOclifConfig(join(import.meta.dir, '..', 'src'), false)
  const root = config.plugins.get(config.name) as Plugin
  return JSON.parse(JSON.stringify(root.manifest))
}

/** The manifest as a fresh `bun` computes it from source. */
export function oclifManifest(env: Record<string, string | undefined> = process.env): Interfaces.Manifest {
  const r = Bun.spawnSync([process.execPath, import.meta.path], {stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env})
  if (r.exitCode !== 0) throw new Error(`building the command manifest failed: ${r.stderr.toString()}`)
  return JSON.parse(r.stdout.toString())
}

if (import.meta.main) process.stdout.write(JSON.stringify(await manifestFromSource()))
