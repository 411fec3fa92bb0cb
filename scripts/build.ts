// Builds the single executable dist/margo. Both entrypoints are needed: oclif loads the
// commands module by path at run time, so it must be embedded as its own chunk; --splitting
// keeps one copy of shared code, and react-devtools-core (an optional Ink peer) stays external.
const args = [
  'build', '--compile', '--minify', '--bytecode', '--format=esm', '--splitting',
  '--external', 'react-devtools-core',
  'src/main.ts', 'commands/index.ts',
  '--outfile', 'dist/margo',
]
const result = Bun.spawnSync([process.execPath, ...args], {stdout: 'inherit', stderr: 'inherit', cwd: `${import.meta.dir}/..`})
process.exit(result.exitCode ?? 1)
