import type {Subprocess} from 'bun'
import type {Logger} from '../../util/log.ts'

/** Set in a worker's environment: which worker it is and the port the primary bound. */
export const WORKER_ENV = 'MARGO_SERVE_WORKER'
/** What a worker prints on stdout once it listens. */
export const WORKER_READY = 'margo-worker-ready'

export interface WorkerSpec {
  index: number
  port: number
}

export function workerFromEnv(env: Record<string, string | undefined>): WorkerSpec | undefined {
  const m = /^(\d{1,3}):(\d{1,5})$/.exec(env[WORKER_ENV] ?? '')
  return m ? {index: Number(m[1]), port: Number(m[2])} : undefined
}

/** This program as a command line: the compiled binary, or bun and the entry script. */
export function selfCommand(): string[] {
  const compiled = import.meta.dirname.includes('$bunfs')
  return compiled ? [process.execPath] : [process.execPath, process.argv[1]!]
}

/** Restart delay after a worker died: quick at first, slower while it keeps dying young. */
export function restartDelayMs(recentDeaths: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, recentDeaths - 1))
}

export interface WorkerPool {
  pids(): number[]
  stop(): Promise<void>
}

/**
 * Starts workers 1..count-1 (the primary is worker 0) running `command` with WORKER_ENV set, and
 * restarts any that dies. A worker's stdin is a pipe from the primary: when the primary dies,
 * however, the pipe closes and the worker stops, so no orphan keeps serving the port.
 * Resolves once every worker listens (or failed to start within the timeout, which is logged).
 */
export async function startWorkers(opts: {count: number, port: number, command: string[], log: Logger, readyTimeoutMs?: number}): Promise<WorkerPool> {
  const procs = new Map<number, Subprocess<'pipe', 'pipe', 'inherit'>>()
  const deaths = new Map<number, number[]>()
  let stopping = false

  const spawn = (index: number): Promise<void> => {
    const proc = Bun.spawn(opts.command, {
      stdin: 'pipe', stdout: 'pipe', stderr: 'inherit',
      env: {...process.env, [WORKER_ENV]: `${index}:${opts.port}`},
    })
    procs.set(index, proc)
    void proc.exited.then(code => {
      if (procs.get(index) === proc) procs.delete(index)
      if (stopping) return
      const now = Date.now()
      const recent = (deaths.get(index) ?? []).filter(t => now - t < 60_000).concat(now)
      deaths.set(index, recent)
      const delay = restartDelayMs(recent.length)
      opts.log.warn('serve.worker_exited', {worker: index, pid: proc.pid, code, restartInMs: delay})
      setTimeout(() => { if (!stopping) void spawn(index) }, delay)
    })
    return waitReady(proc, opts.readyTimeoutMs ?? 15_000).then(ok => {
      if (ok) opts.log.info('serve.worker_started', {worker: index, pid: proc.pid})
      else opts.log.error('serve.worker_not_ready', {worker: index, pid: proc.pid})
    })
  }

  await Promise.all(Array.from({length: opts.count - 1}, (_, i) => spawn(i + 1)))
  return {
    pids: () => [...procs.values()].map(p => p.pid),
    async stop() {
      stopping = true
      const all = [...procs.values()]
      for (const p of all) {
        try { p.stdin.end() } catch { /* already gone */ }
        p.kill('SIGTERM')
      }
      await Promise.all(all.map(async p => {
        const kill = setTimeout(() => p.kill('SIGKILL'), 10_000)
        await p.exited
        clearTimeout(kill)
      }))
    },
  }
}

/** Reads the worker's stdout until it says it listens; the rest of its stdout is drained. */
async function waitReady(proc: Subprocess<'pipe', 'pipe', 'inherit'>, timeoutMs: number): Promise<boolean> {
  const {promise, resolve} = Promise.withResolvers<boolean>()
  void (async () => {
    const decoder = new TextDecoder()
    let seen = ''
    let ready = false
    for await (const chunk of proc.stdout) {
      if (ready) continue
      seen += decoder.decode(chunk)
      ready = seen.includes(WORKER_READY)
      if (ready) resolve(true)
    }
    resolve(false)
  })()
  const timer = setTimeout(() => resolve(false), timeoutMs)
  return promise.finally(() => clearTimeout(timer))
}
