import type {ComposeTool} from './binaries.ts'

/**
 * The compose project name: `<component>-<first 8 characters of the deployment id>`, so two
 * deployments with a component of the same name never share containers. Lowercase letters,
 * digits, `-` and `_` only, starting with a letter or digit, as Compose requires.
 */
export function composeProjectName(componentName: string, deploymentId: string): string {
  const clean = (s: string) => s.toLowerCase().replace(/[^a-z0-9_-]/g, '')
  const name = `${clean(componentName)}-${clean(deploymentId).slice(0, 8)}`.replace(/^[^a-z0-9]+/, '')
  return name || 'margo'
}

export interface ComposeFiles {
  /** Absolute path of the package's compose.yaml; its directory is the project directory. */
  composeFile: string
  /** Absolute path of the override that injects the OpenTelemetry variables, when there is one. */
  overrideFile?: string
  /** Absolute path of the env file. */
  envFile: string
}

function base(tool: ComposeTool, project: string, files: ComposeFiles): string[] {
  const argv = [...tool.argv, '-p', project, '-f', files.composeFile]
  if (files.overrideFile) argv.push('-f', files.overrideFile)
  argv.push('--env-file', files.envFile)
  return argv
}

/**
 * `up -d`, plus `--wait` on Compose v2 when the component waits (v1 has no `--wait`; the driver
 * polls instead). `--remove-orphans` drops services an updated package no longer has.
 */
export function composeUpArgs(tool: ComposeTool, project: string, files: ComposeFiles, wait: boolean): string[] {
  const argv = [...base(tool, project, files), 'up', '-d', '--remove-orphans']
  if (wait && tool.v2) argv.push('--wait')
  return argv
}

/** `down --remove-orphans`. Named volumes are kept: removing a workload never destroys its data. */
export function composeDownArgs(tool: ComposeTool, project: string, files: ComposeFiles): string[] {
  return [...base(tool, project, files), 'down', '--remove-orphans']
}

/** Every container of the project, stopped ones included: JSON on v2, the text table on v1. */
export function composePsArgs(tool: ComposeTool, project: string, files: ComposeFiles): string[] {
  return tool.v2 ? [...base(tool, project, files), 'ps', '--all', '--format', 'json'] : [...base(tool, project, files), 'ps']
}
