#!/usr/bin/env bun
const argv = process.argv.slice(2)
// The compiled binary carries its command manifest, built with it (commands/_manifest.ts); from
// source oclif builds it from the command classes.
const compiled = import.meta.dirname.includes('$bunfs')

// `margo agent` sleeps between polls for months and does little JavaScript when awake, so it runs
// without JavaScriptCore's JIT: the compilers, their thunks and the machine code they make would
// stay resident (about 3 MiB). The switch is read when the runtime starts, hence one re-exec in
// place (same pid); BUN_JSC_useJIT in the environment, either value, is left as given.
if (compiled && argv[0] === 'agent' && !/^[a-z]/.test(argv[1] ?? '') && process.env.BUN_JSC_useJIT === undefined) {
  try {
    process.execve?.(process.execPath, [process.execPath, ...argv], {...process.env, BUN_JSC_useJIT: '0'})
  } catch {
    // Runs with the JIT instead: more memory, same behaviour.
  }
}

// The long-running agent starts without the command tree; see commands/_agent-fast-path.ts.
const handled = argv[0] === 'agent' && await (await import('../commands/_agent-fast-path.ts')).agentFastPath(argv.slice(1))

// The root help, as oclif prints it into a pipe, was rendered when the binary was built.
const rootHelp = compiled && argv[0] === '--help' ? await import('../commands/_root-help.ts') : undefined
if (rootHelp?.servesRootHelp(argv, process.env, process.stdout.isTTY === true)) process.stdout.write(rootHelp.rootHelpText())
else if (!handled) {
  // On import oclif loads semver to check that node satisfies its engines (about 1.5 ms of a
  // command's start); the Node version bun reports always does. The switch is gone again once
  // oclif is loaded, so nothing this process starts inherits it.
  const engineWarning = process.env.OCLIF_DISABLE_ENGINE_WARNING
  process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
  const {flush, handle, run} = await import('@oclif/core')
  if (engineWarning === undefined) delete process.env.OCLIF_DISABLE_ENGINE_WARNING
  else process.env.OCLIF_DISABLE_ENGINE_WARNING = engineWarning
  const {loadOclifConfig} = await import('../commands/_oclif-config.ts')
  const config = await loadOclifConfig(import.meta.dirname, compiled)
  await run(argv, config).then(() => flush()).catch(handle)
}
