import {mkdir, rename, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {DriverError} from './errors.ts'

/**
 * The directory of one component inside the deployment's work directory. Component names are
 * `[a-z0-9-]+` already; checked again because the name becomes a path.
 */
export function componentDir(workDir: string, componentName: string): string {
  if (!/^[a-z0-9-]+$/.test(componentName)) throw new DriverError('DRIVER_INTERNAL_ERROR', `component name ${JSON.stringify(componentName)} cannot name a directory`)
  return join(workDir, componentName)
}

/** Runs a file-system step, turning its failure into an error that names the work directory. */
export async function onDisk<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (e) {
    if (e instanceof DriverError) throw e
    throw new DriverError('WORKDIR_UNWRITABLE', `cannot ${what}: ${(e as Error).message}`)
  }
}

/** Writes a file through a temporary name, so a crash never leaves half a values or env file. */
export async function writeFileAtomic(path: string, content: string, mode: number): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`
  await rm(temp, {force: true})
  await writeFile(temp, content, {mode})
  await rename(temp, path)
}

export async function ensureDir(path: string): Promise<void> {
  await mkdir(path, {recursive: true, mode: 0o700})
}

export async function removeTree(path: string): Promise<void> {
  await rm(path, {recursive: true, force: true})
}
