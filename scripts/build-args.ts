// The one description of how the single executable is compiled, shared by build.ts (this host)
// and release.ts (cross-compiled targets). Both entrypoints are needed: oclif loads the commands
// module by path at run time, so it must be embedded as its own chunk; --splitting keeps one copy
// of shared code, and react-devtools-core (an optional Ink peer) stays external. The PostgreSQL
// adapter's worker thread is started by path too (new Worker(new URL(…, import.meta.url))).
export function compileArgs(outfile: string, target?: string): string[] {
  return [
    'build', '--compile', '--minify', '--bytecode', '--format=esm', '--splitting',
    '--external', 'react-devtools-core',
    ...(target ? [`--target=${target}`] : []),
    'src/main.ts', 'commands/index.ts', 'src/server/store/postgres/worker.ts',
    '--outfile', outfile,
  ]
}
