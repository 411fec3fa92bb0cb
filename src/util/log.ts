/**
 * Structured logs on stderr: one event per line with a stable `event` name, as text on a TTY
 * and JSON otherwise. Never pass secrets (keys, tokens) as fields.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFormat = 'text' | 'json'
const ORDER: Record<LogLevel, number> = {debug: 10, info: 20, warn: 30, error: 40}

export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void
  info(event: string, fields?: Record<string, unknown>): void
  warn(event: string, fields?: Record<string, unknown>): void
  error(event: string, fields?: Record<string, unknown>): void
}

export function createLogger(opts: {level?: LogLevel, format?: LogFormat, write?: (line: string) => void} = {}): Logger {
  const min = ORDER[opts.level ?? 'info']
  const format = opts.format ?? (process.stderr.isTTY ? 'text' : 'json')
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'))
  const emit = (level: LogLevel, event: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[level] < min) return
    const time = new Date().toISOString()
    if (format === 'json') {
      write(JSON.stringify({time, level, event, ...fields}))
    } else {
      const rest = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`).join(' ')
      write(`${time} ${level.toUpperCase().padEnd(5)} ${event}${rest ? ' ' + rest : ''}`)
    }
  }
  return {
    debug: (e, f) => emit('debug', e, f),
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
  }
}

export const silentLogger: Logger = {debug() {}, info() {}, warn() {}, error() {}}
