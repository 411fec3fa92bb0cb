import {mkdtemp, readFile, rename, stat} from 'node:fs/promises'
import {join, relative} from 'node:path'
import type {ApplicationDeployment, DeploymentComponent} from '../../margo/deployment.ts'
import type {ComponentResult, Driver, DriverContext} from '../types.ts'
import {DEFAULT_ARCHIVE_LIMITS, unpackComposePackage, type ArchiveLimits} from './archive.ts'
import {detectCompose, findBinary, type ComposeTool} from './binaries.ts'
import {composeDownArgs, composeProjectName, composePsArgs, composeUpArgs, type ComposeFiles} from './compose-args.ts'
import {composeVariables, readComposeFile, renderEnvFile, renderOtelOverride} from './compose-env.ts'
import {parsePsJson, parsePsTable, projectState} from './compose-status.ts'
import {DriverError, withOutput, type DriverErrorCode} from './errors.ts'
import {runCommand, type CommandResult} from './exec.ts'
import {installInOrder, removeInReverse, statusOfEach} from './sequence.ts'
import {checkPackageSignature} from './signature.ts'
import {componentDir, ensureDir, onDisk, removeTree, writeFileAtomic} from './workdir.ts'

export interface ComposeDriverOptions {
  /** PATH searched for `docker` and `docker-compose`; the agent's PATH by default. */
  path?: string
  archiveLimits?: ArchiveLimits
  /** Budget for `up` (and waiting) when a component sets no timeout; image pulls can be slow. */
  defaultTimeoutSeconds?: number
  /** How often Compose v1 projects are polled while waiting for their containers. */
  waitPollMs?: number
}

/** Files the driver keeps in each component's directory. */
export const ENV_FILE_NAME = 'margo.env'
export const OVERRIDE_FILE_NAME = 'margo.override.yaml'
export const PACKAGE_DIR_NAME = 'package'
export const APPLIED_FILE_NAME = 'applied.json'
const STUB_FILE_NAME = 'stub-compose.yaml'

/** What `down` and `ps` need from the last successful `up`, kept beside the package. */
interface AppliedRecord {
  project: string
  /** Relative to the component directory. */
  composeFile: string
  overrideFile?: string
}

/** The error for a compose run that did not succeed, or undefined when it did. */
export function composeFailure(result: CommandResult, action: 'up' | 'down' | 'ps', project: string, timeoutSeconds: number): DriverError | undefined {
  if (result.outcome === 'exited' && result.code === 0) return undefined
  const output = result.stderr.trim() || result.stdout
  const failed: DriverErrorCode = action === 'up' ? 'COMPOSE_UP_FAILED' : action === 'down' ? 'COMPOSE_DOWN_FAILED' : 'COMPOSE_STATUS_FAILED'
  switch (result.outcome) {
    case 'not-found':
    case 'spawn-failed':
      return new DriverError('DOCKER_NOT_FOUND', withOutput('docker compose could not be started', result.stderr))
    case 'aborted':
      return new DriverError('INTERRUPTED', `compose ${action} of ${project} was interrupted by the agent shutting down`)
    case 'timed-out':
      return new DriverError(action === 'up' ? 'COMPOSE_TIMEOUT' : failed, withOutput(`compose ${action} of ${project} did not finish within ${timeoutSeconds}s`, output))
  }
  return new DriverError(failed, withOutput(`compose ${action} of ${project} failed (exit ${result.code})`, output))
}

/**
 * Runs each component as a Compose project named `<component>-<deployment id prefix>`. The
 * package is downloaded, its signature checked when `keyLocation` is set, validated and
 * unpacked into the component's directory, and started with `up -d`.
 *
 * Parameters reach Compose twice: in the env file (`--env-file`, Compose v2 syntax, for anyone
 * re-running compose by hand) and in the process environment, which takes precedence over env
 * files in every Compose version, so values arrive byte for byte whatever the env-file dialect.
 */
export function createComposeDriver(options: ComposeDriverOptions = {}): Driver {
  const limits = options.archiveLimits ?? DEFAULT_ARCHIVE_LIMITS
  const defaultTimeout = options.defaultTimeoutSeconds ?? 600
  const pollMs = options.waitPollMs ?? 1000
  const detected = new Map<string, ComposeTool>()

  const tool = async (ctx: DriverContext): Promise<ComposeTool> => {
    const path = options.path ?? process.env.PATH
    const docker = findBinary('docker', ctx.binaries.docker, path)
    const dockerCompose = findBinary('docker-compose', undefined, path)
    if (!docker && !dockerCompose) {
      throw new DriverError('DOCKER_NOT_FOUND', ctx.binaries.docker
        ? `the configured docker binary ${ctx.binaries.docker} does not exist or is not executable`
        : 'neither docker nor docker-compose is installed on this device (not found on PATH)')
    }
    const key = `${docker ?? ''}\0${dockerCompose ?? ''}`
    const known = detected.get(key)
    if (known) return known
    const found = await detectCompose({docker, dockerCompose}, {signal: ctx.signal})
    if (!found) throw new DriverError('COMPOSE_NOT_FOUND', `${docker ? `docker (${docker}) has no compose plugin` : 'docker is not installed'} and ${dockerCompose ? `docker-compose (${dockerCompose}) does not answer` : 'docker-compose is not installed'}; install the Compose v2 plugin`)
    detected.set(key, found)
    ctx.log.info('compose.detected', {argv: found.argv, version: found.version, v2: found.v2})
    return found
  }

  const timeoutOf = (c: DeploymentComponent) => c.properties.timeoutSeconds ?? defaultTimeout

  const environment = (deployment: ApplicationDeployment, component: DeploymentComponent, ctx: DriverContext) => ({
    ...process.env,
    ...Object.fromEntries(composeVariables(deployment, component.name, ctx.otel)),
  })

  /** The files of the last `up`, or a stub compose file so `down`/`ps` still find the project's containers. */
  const filesFor = async (dir: string, project: string): Promise<ComposeFiles> => {
    const applied = await readApplied(dir)
    if (applied && applied.project === project && (await exists(join(dir, applied.composeFile)))) {
      return {
        composeFile: join(dir, applied.composeFile),
        ...(applied.overrideFile && (await exists(join(dir, applied.overrideFile))) && {overrideFile: join(dir, applied.overrideFile)}),
        envFile: join(dir, ENV_FILE_NAME),
      }
    }
    return onDisk(`write a stub compose file in ${dir}`, async () => {
      await ensureDir(dir)
      // docker-compose 1.x refuses a file without services or version.
      await writeFileAtomic(join(dir, STUB_FILE_NAME), 'version: "3"\nservices: {}\n', 0o644)
      if (!(await exists(join(dir, ENV_FILE_NAME)))) await writeFileAtomic(join(dir, ENV_FILE_NAME), '', 0o600)
      return {composeFile: join(dir, STUB_FILE_NAME), envFile: join(dir, ENV_FILE_NAME)}
    })
  }

  const fetchPackage = async (component: DeploymentComponent, ctx: DriverContext): Promise<Uint8Array> => {
    const {packageLocation, keyLocation, repository} = component.properties
    if (!packageLocation) {
      throw new DriverError('PACKAGE_LOCATION_MISSING', repository
        ? `component ${component.name} names an OCI repository (${repository}); this device installs Compose packages from packageLocation only`
        : `component ${component.name} has no packageLocation`)
    }
    let bytes: Uint8Array
    try {
      bytes = await ctx.download(packageLocation)
    } catch (e) {
      throw new DriverError('PACKAGE_DOWNLOAD_FAILED', `cannot download the package of ${component.name} from ${packageLocation}: ${(e as Error).message}`)
    }
    if (keyLocation) {
      const {signatureLocation, fingerprint} = await checkPackageSignature(bytes, packageLocation, keyLocation, url => ctx.download(url))
      ctx.log.info('compose.signature_verified', {component: component.name, signatureLocation, fingerprint})
    }
    return bytes
  }

  /** Unpacks into a fresh directory and only then replaces the previous package, so a bad update leaves the running one intact. */
  const installPackage = async (bytes: Uint8Array, dir: string): Promise<{composeFile: string, projectDir: string}> => {
    await onDisk(`create ${dir}`, () => ensureDir(dir))
    const staging = await onDisk(`create a staging directory in ${dir}`, () => mkdtemp(join(dir, 'incoming-')))
    try {
      const unpacked = await unpackComposePackage(bytes, staging, limits)
      const inside = relative(staging, unpacked.projectDir)
      const target = join(dir, PACKAGE_DIR_NAME)
      await onDisk(`replace ${target}`, async () => {
        await removeTree(target)
        await rename(staging, target)
      })
      const projectDir = join(target, inside)
      return {projectDir, composeFile: join(projectDir, 'compose.yaml')}
    } finally {
      await removeTree(staging).catch(() => {})
    }
  }

  const waitUntilUp = async (compose: ComposeTool, project: string, files: ComposeFiles, env: Record<string, string | undefined>, cwd: string, deadline: number, ctx: DriverContext, timeoutSeconds: number) => {
    for (;;) {
      const result = await runCommand(composePsArgs(compose, project, files), {cwd, env, timeoutMs: 60_000, signal: ctx.signal})
      const failure = composeFailure(result, 'ps', project, 60)
      if (failure) throw failure
      const {state, error} = projectState(compose.v2 ? parsePsJson(result.stdout) : parsePsTable(result.stdout))
      if (state === 'installed') return
      if (state === 'failed') throw new DriverError('COMPOSE_CONTAINER_FAILED', error?.message ?? `project ${project} failed`)
      if (state === 'removed') throw new DriverError('COMPOSE_UP_FAILED', `project ${project} has no containers after up`)
      if (Date.now() + pollMs > deadline) throw new DriverError('COMPOSE_TIMEOUT', `project ${project} was not up within ${timeoutSeconds}s (${state})`)
      await Bun.sleep(pollMs)
      if (ctx.signal?.aborted) throw new DriverError('INTERRUPTED', `waiting for ${project} was interrupted by the agent shutting down`)
    }
  }

  return {
    type: 'compose',

    async apply(deployment, ctx, onComponent) {
      return installInOrder(deployment.spec.deploymentProfile.components, ctx, onComponent, async component => {
        const compose = await tool(ctx)
        const started = Date.now()
        const timeoutSeconds = timeoutOf(component)
        const dir = componentDir(ctx.workDir, component.name)
        const project = composeProjectName(component.name, deployment.metadata.annotations.id)
        const variables = composeVariables(deployment, component.name, ctx.otel)

        const bytes = await fetchPackage(component, ctx)
        const {composeFile, projectDir} = await installPackage(bytes, dir)
        const composeText = await onDisk(`read ${composeFile}`, () => readFile(composeFile, 'utf8'))
        const info = readComposeFile(composeText)
        const packageEnv = await readPackageEnv(join(projectDir, '.env'))
        const override = renderOtelOverride(info, ctx.otel)
        const files: ComposeFiles = {composeFile, envFile: join(dir, ENV_FILE_NAME), ...(override && {overrideFile: join(dir, OVERRIDE_FILE_NAME)})}
        await onDisk(`write the compose files in ${dir}`, async () => {
          await writeFileAtomic(files.envFile, renderEnvFile(variables, packageEnv), 0o600)
          if (override) await writeFileAtomic(join(dir, OVERRIDE_FILE_NAME), override, 0o600)
          else await removeTree(join(dir, OVERRIDE_FILE_NAME))
        })

        const env = environment(deployment, component, ctx)
        const argv = composeUpArgs(compose, project, files, component.properties.wait)
        ctx.log.info('compose.up', {deploymentId: deployment.metadata.annotations.id, component: component.name, argv})
        ctx.changingHost?.()
        const result = await runCommand(argv, {cwd: projectDir, env, timeoutMs: timeoutSeconds * 1000, signal: ctx.signal})
        const failure = composeFailure(result, 'up', project, timeoutSeconds)
        await onDisk(`record the applied files in ${dir}`, () => writeApplied(dir, {project, composeFile: relative(dir, composeFile), ...(files.overrideFile && {overrideFile: OVERRIDE_FILE_NAME})}))
        if (failure) throw failure
        if (component.properties.wait && !compose.v2) await waitUntilUp(compose, project, files, env, projectDir, started + timeoutSeconds * 1000, ctx, timeoutSeconds)
      })
    },

    async remove(deployment, ctx, onComponent) {
      return removeInReverse(deployment.spec.deploymentProfile.components, ctx, onComponent, async component => {
        const compose = await tool(ctx)
        const dir = componentDir(ctx.workDir, component.name)
        const project = composeProjectName(component.name, deployment.metadata.annotations.id)
        const files = await filesFor(dir, project)
        const timeoutSeconds = timeoutOf(component)
        const argv = composeDownArgs(compose, project, files)
        ctx.log.info('compose.down', {deploymentId: deployment.metadata.annotations.id, component: component.name, argv})
        const result = await runCommand(argv, {cwd: dir, env: environmentSafe(deployment, component, ctx), timeoutMs: timeoutSeconds * 1000, signal: ctx.signal})
        const failure = composeFailure(result, 'down', project, timeoutSeconds)
        if (failure) throw failure
        await removeTree(dir).catch(e => ctx.log.warn('compose.cleanup_failed', {dir, error: (e as Error).message}))
      })
    },

    async status(deployment, ctx) {
      return statusOfEach(deployment.spec.deploymentProfile.components, ctx, async (component): Promise<Omit<ComponentResult, 'name'>> => {
        const compose = await tool(ctx)
        const dir = componentDir(ctx.workDir, component.name)
        const project = composeProjectName(component.name, deployment.metadata.annotations.id)
        const files = await filesFor(dir, project)
        const result = await runCommand(composePsArgs(compose, project, files), {cwd: dir, env: environmentSafe(deployment, component, ctx), timeoutMs: 60_000, signal: ctx.signal})
        const failure = composeFailure(result, 'ps', project, 60)
        if (failure) throw failure
        let containers: ReturnType<typeof parsePsJson>
        try {
          containers = compose.v2 ? parsePsJson(result.stdout) : parsePsTable(result.stdout)
        } catch {
          throw new DriverError('COMPOSE_STATUS_FAILED', withOutput(`compose ps of ${project} printed output that could not be read`, result.stdout))
        }
        return projectState(containers)
      })
    },
  }

  /** Like environment(), but a parameter that can no longer be expressed must not block removal or status. */
  function environmentSafe(deployment: ApplicationDeployment, component: DeploymentComponent, ctx: DriverContext): Record<string, string | undefined> {
    try {
      return environment(deployment, component, ctx)
    } catch {
      return {...process.env}
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

async function readPackageEnv(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path)
    return s.isFile() ? await readFile(path, 'utf8') : undefined
  } catch {
    return undefined
  }
}

async function readApplied(dir: string): Promise<AppliedRecord | undefined> {
  try {
    const record = JSON.parse(await readFile(join(dir, APPLIED_FILE_NAME), 'utf8')) as AppliedRecord
    return typeof record.project === 'string' && typeof record.composeFile === 'string' ? record : undefined
  } catch {
    return undefined
  }
}

async function writeApplied(dir: string, record: AppliedRecord): Promise<void> {
  await writeFileAtomic(join(dir, APPLIED_FILE_NAME), `${JSON.stringify(record, null, 2)}\n`, 0o600)
}
