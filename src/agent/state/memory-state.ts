import {isAbsolute, normalize, sep} from 'node:path'
import type {StateStore} from './state-dir.ts'

/**
 * Agent state held in memory: what a simulated device keeps instead of a state directory, so
 * thousands of them fit in one process. JSON is kept as its compact text and parsed on read,
 * so callers never share objects with the store, exactly as with files. Nothing survives the
 * process; a restarted simulated device is a device whose state was wiped.
 */
export class MemoryState implements StateStore {
  private readonly files = new Map<string, string | Uint8Array>()

  readJson<T>(name: string, valid?: (value: unknown) => value is T): T | null {
    const text = this.files.get(key(name))
    if (typeof text !== 'string') return null
    const value: unknown = JSON.parse(text)
    if (valid && !valid(value)) {
      this.files.delete(key(name))
      return null
    }
    return value as T
  }

  writeJson(name: string, value: unknown): void {
    this.files.set(key(name), JSON.stringify(value))
  }

  /** A damaged document has no place to be kept for inspection here: it is dropped. */
  quarantine(name: string): string | null {
    this.files.delete(key(name))
    return null
  }

  readBytes(name: string): Uint8Array | null {
    const value = this.files.get(key(name))
    if (value === undefined) return null
    return typeof value === 'string' ? new TextEncoder().encode(value) : value.slice()
  }

  writeBytes(name: string, bytes: Uint8Array): void {
    this.files.set(key(name), bytes.slice())
  }

  remove(name: string): void {
    const k = key(name)
    this.files.delete(k)
    for (const f of [...this.files.keys()]) if (f.startsWith(`${k}/`)) this.files.delete(f)
  }

  list(name: string): string[] {
    const prefix = `${key(name)}/`
    const names = new Set<string>()
    for (const f of this.files.keys()) if (f.startsWith(prefix)) names.add(f.slice(prefix.length).split('/')[0]!)
    return [...names]
  }

  isFolder(name: string): boolean {
    const prefix = `${key(name)}/`
    for (const f of this.files.keys()) if (f.startsWith(prefix)) return true
    return false
  }

  /** Bytes held, for the simulator's memory accounting. */
  get size(): number {
    let total = 0
    for (const v of this.files.values()) total += typeof v === 'string' ? v.length : v.byteLength
    return total
  }
}

/** The same containment rule as the state directory: names stay inside the root. */
function key(name: string): string {
  const clean = normalize(name).split(sep).join('/')
  if (name === '' || isAbsolute(name) || clean === '..' || clean.startsWith('../')) throw new Error(`state file name escapes the state directory: ${name}`)
  return clean.replace(/\/+$/, '')
}
