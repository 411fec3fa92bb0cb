import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {stringify} from 'yaml'
import {parseApplicationDeployment, type ApplicationDeployment} from '../../../src/margo/deployment.ts'
import type {ComponentResult, DriverContext} from '../../../src/agent/types.ts'

export const FAKE_BIN = join(import.meta.dir, '../../fixtures/bin')
export const FAKE_HELM = join(FAKE_BIN, 'helm')
export const FAKE_DOCKER = join(FAKE_BIN, 'docker')
export const FAKE_DOCKER_COMPOSE = join(FAKE_BIN, 'docker-compose')
export const DEPLOYMENT_ID = 'a3e2f5dc-912e-494f-8395-52cf3769bc06'

export interface ComponentSpec {
  name: string
  properties: Record<string, unknown>
}

/** An ApplicationDeployment read through the real parser, so tests see what drivers will see. */
export function deployment(type: 'helm.v3' | 'compose', components: ComponentSpec[], parameters?: Record<string, unknown>, namespace: string | null = 'margo-poc'): ApplicationDeployment {
  const doc = {
    apiVersion: 'application.margo.org/v1alpha1',
    kind: 'ApplicationDeployment',
    metadata: {
      annotations: {id: DEPLOYMENT_ID, applicationId: 'com-example-app'},
      name: 'com-example-app-deployment',
      ...(namespace !== null && {namespace}),
    },
    spec: {deploymentProfile: {type, components}, ...(parameters && {parameters})},
  }
  return parseYamlDeployment(stringify(doc))
}

export function parseYamlDeployment(yaml: string): ApplicationDeployment {
  const result = parseApplicationDeployment(yaml)
  if (!result.ok) throw new Error(`test deployment is invalid: ${JSON.stringify(result.errors)}`)
  return result.value
}

export interface LogLine {
  tool: string
  argv: string[]
  cwd: string
  env: Record<string, string>
}

/** A scratch directory, a fake-binary log and state, and a context wired to them. */
export class Sandbox {
  readonly root = mkdtempSync(join(tmpdir(), 'margo-drivers-'))
  readonly workDir = join(this.root, 'work')
  readonly logFile = join(this.root, 'fake.log')
  readonly stateDir = join(this.root, 'fake-state')
  readonly logs: {event: string, fields?: Record<string, unknown>}[] = []
  private saved = new Map<string, string | undefined>()

  /** Sets variables for the fakes (they inherit the test process environment); undone by cleanup(). */
  env(vars: Record<string, string | undefined>): void {
    for (const [k, v] of Object.entries(vars)) {
      if (!this.saved.has(k)) this.saved.set(k, process.env[k])
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }

  constructor() {
    this.env({MARGO_FAKE_LOG: this.logFile, MARGO_FAKE_STATE: this.stateDir})
  }

  ctx(over: Partial<DriverContext> = {}): DriverContext {
    return {
      workDir: this.workDir,
      binaries: {helm: FAKE_HELM, docker: FAKE_DOCKER},
      download: async url => {
        throw new Error(`no download expected: ${url}`)
      },
      log: {
        info: (event, fields) => this.logs.push({event, fields}),
        warn: (event, fields) => this.logs.push({event, fields}),
      },
      ...over,
    }
  }

  calls(): LogLine[] {
    let text = ''
    try {
      text = readFileSync(this.logFile, 'utf8')
    } catch {
      return []
    }
    return text.split('\n').filter(Boolean).map(l => JSON.parse(l) as LogLine)
  }

  /** Each invocation as `tool arg arg …`, the shape assertions read best in. */
  commands(filter?: (l: LogLine) => boolean): string[][] {
    return this.calls().filter(filter ?? (() => true)).map(l => [l.tool, ...l.argv])
  }

  cleanup(): void {
    for (const [k, v] of this.saved) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
    rmSync(this.root, {recursive: true, force: true})
  }
}

export function recorder(): {events: ComponentResult[], listener: (r: ComponentResult) => void} {
  const events: ComponentResult[] = []
  return {events, listener: r => events.push(structuredClone(r))}
}
