// Builds the single executable dist/margo for this host.
import {compileArgs} from './build-args.ts'

const result = Bun.spawnSync([process.execPath, ...compileArgs('dist/margo')], {stdout: 'inherit', stderr: 'inherit', cwd: `${import.meta.dir}/..`})
process.exit(result.exitCode ?? 1)
