/**
 * Build-time half of the precomputed `margo --help` (commands/_root-help.ts): oclif's own root
 * help, printed once by `margo --help` from source into a pipe (80 columns, no colour) while
 * the binary is bundled.
 */
import {join} from 'node:path'
import {RENDERING_ENV} from '../src/cli/root-help-serve.ts'
import {userAgent} from './_oclif-config.ts'

export interface RootHelp {
  text: string
  /** The user agent in `text`'s VERSION line, replaced at run time by the running binary's. */
  userAgent: string
}

/** What `margo --help` prints into a pipe. A fresh process, so nothing of the bundler's terminal or state shapes it. */
export function oclifRootHelp(): RootHelp {
  const env = {...process.env}
  for (const name of RENDERING_ENV) delete env[name]
  const r = Bun.spawnSync([process.execPath, join(import.meta.dir, '..', 'src', 'main.ts'), '--help'], {stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env})
  if (r.exitCode !== 0) throw new Error(`margo --help failed while building the root help: ${r.stderr.toString()}`)
  return {text: r.stdout.toString(), userAgent: userAgent()}
}
