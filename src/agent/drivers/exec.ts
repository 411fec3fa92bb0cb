import {existsSync} from 'node:fs'

/** How a command ended. Only `exited` carries a meaningful exit code. */
export type CommandOutcome = 'exited' | 'not-found' | 'spawn-failed' | 'timed-out' | 'aborted'

export interface CommandResult {
  outcome: CommandOutcome
  /** The exit code when `outcome` is `exited`, else null. */
  code: number | null
  stdout: string
  stderr: string
  durationMs: number
}

export interface RunOptions {
  cwd?: string
  /** The complete environment of the child; the agent's current one when omitted. */
  env?: Record<string, string | undefined>
  /** Kills the command (and everything it started) after this long. */
  timeoutMs?: number
  signal?: AbortSignal
  stdin?: string
  /** Output beyond this many bytes per stream is dropped from the front. */
  maxOutputBytes?: number
}

const DEFAULT_MAX_OUTPUT = 1024 * 1024
/** Grandchildren that outlive a killed command can hold its pipes open; stop reading after this. */
const DRAIN_GRACE_MS = 500

/**
 * Runs a command without a shell. Never throws for the command's own failures: a missing or
 * unusable binary, a timeout and an abort are outcomes. The child gets its own process group so
 * a timeout or abort also stops what it started (helm plugins, compose's container attaches).
 */
export async function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  if (options.signal?.aborted) return {outcome: 'aborted', code: null, stdout: '', stderr: 'aborted before start', durationMs: 0}

  let proc: ReturnType<typeof Bun.spawn>
  try {
    proc = Bun.spawn([...argv], {
      cwd: options.cwd,
      // Bun's default is the environment at startup; the live one is what callers expect.
      env: (options.env ?? process.env) as Record<string, string>,
      stdin: options.stdin === undefined ? 'ignore' : new TextEncoder().encode(options.stdin),
      stdout: 'pipe',
      stderr: 'pipe',
      detached: true,
    })
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    const missing = err.code === 'ENOENT' && !(argv[0]?.includes('/') && existsSync(argv[0]) && (options.cwd === undefined || existsSync(options.cwd)))
    return {outcome: missing ? 'not-found' : 'spawn-failed', code: null, stdout: '', stderr: `cannot run ${argv[0]}: ${err.code ?? ''} ${err.message}`.trim(), durationMs: elapsed()}
  }

  let ended: 'timed-out' | 'aborted' | undefined
  const kill = (why: 'timed-out' | 'aborted') => {
    if (ended || proc.exitCode !== null || proc.signalCode !== null) return
    ended = why
    killGroup(proc.pid, 'SIGTERM')
    setTimeout(() => killGroup(proc.pid, 'SIGKILL'), 2000).unref()
  }
  const timer = options.timeoutMs !== undefined ? setTimeout(() => kill('timed-out'), options.timeoutMs) : undefined
  const onAbort = () => kill('aborted')
  options.signal?.addEventListener('abort', onAbort, {once: true})

  const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT
  const stdout = collect(proc.stdout as ReadableStream<Uint8Array>, max)
  const stderr = collect(proc.stderr as ReadableStream<Uint8Array>, max)
  try {
    const code = await proc.exited
    const [out, err] = await Promise.all([stdout.settle(DRAIN_GRACE_MS), stderr.settle(DRAIN_GRACE_MS)])
    if (ended) return {outcome: ended, code: null, stdout: out, stderr: err, durationMs: elapsed()}
    return {outcome: 'exited', code, stdout: out, stderr: err, durationMs: elapsed()}
  } finally {
    if (timer) clearTimeout(timer)
    options.signal?.removeEventListener('abort', onAbort)
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal)
    } catch {
      // Already gone.
    }
  }
}

/** Reads a stream in the background, keeping the last `max` bytes. */
function collect(stream: ReadableStream<Uint8Array>, max: number): {settle(graceMs: number): Promise<string>} {
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = stream.getReader()
  const done = (async () => {
    try {
      for (;;) {
        const {value, done} = await reader.read()
        if (done) return
        chunks.push(value)
        size += value.byteLength
        while (size > max && chunks.length > 1) size -= chunks.shift()!.byteLength
      }
    } catch {
      // A cancelled read ends collection; what was read is kept.
    }
  })()
  return {
    async settle(graceMs) {
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([done, new Promise<void>(resolve => (timer = setTimeout(resolve, graceMs)))])
      clearTimeout(timer)
      reader.cancel().catch(() => {})
      const bytes = Buffer.concat(chunks)
      return new TextDecoder().decode(bytes.byteLength > max ? bytes.subarray(bytes.byteLength - max) : bytes)
    },
  }
}
