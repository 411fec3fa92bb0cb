import {renderSettings} from '../util/print-config.ts'

export type SettingSource = 'flag' | 'env' | 'default'

/**
 * Where a setting of `margo serve` came from: a flag on the command line wins, then its
 * environment variable, then the default (the same precedence the flags parser applies).
 */
export function settingSource(name: string, argv: readonly string[], env: Record<string, string | undefined>, envVar?: string): SettingSource {
  if (argv.some(a => a === `--${name}` || a.startsWith(`--${name}=`))) return 'flag'
  if (envVar && env[envVar] !== undefined && env[envVar] !== '') return 'env'
  return 'default'
}

/** The effective settings, each with its source; nothing among them is secret, so they print as they are. */
export function renderServeConfig(settings: Record<string, unknown>, sources: Record<string, SettingSource>): string {
  return renderSettings(settings, sources)
}
