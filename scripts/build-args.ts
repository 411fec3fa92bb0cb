// The one description of how the single executable is compiled, shared by build.ts (this host)
// and release.ts (cross-compiled targets). --splitting keeps one copy of shared code and gives
// every command a chunk of its own (commands/_command-loaders.ts), so a command loads only what it
// imports; react-devtools-core (an optional Ink peer) stays external. The PostgreSQL adapter's
// worker thread is started by path (new Worker(new URL(…, import.meta.url))); commands/index.ts,
// the whole tree, stays an entrypoint too, which keeps the embedded files in the repository's
// layout that path relies on.
export function compileArgs(outfile: string, target?: string): string[] {
  return [
    'build', '--compile', '--minify', '--bytecode', '--format=esm', '--splitting',
    '--external', 'react-devtools-core',
    ...(target ? [`--target=${target}`] : []),
    'src/main.ts', 'commands/index.ts', 'src/server/store/postgres/worker.ts',
    '--outfile', outfile,
  ]
}
