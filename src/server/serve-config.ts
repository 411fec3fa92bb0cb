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

/** The effective settings as YAML-like lines, each with its source; nothing here is secret. */
export function renderServeConfig(settings: Record<string, unknown>, sources: Record<string, SettingSource>): string {
  return Object.entries(settings).map(([key, value]) => {
    if (value === undefined || (Array.isArray(value) && value.length === 0)) return `# ${key}: (not set)`
    const shown = Array.isArray(value) ? `[${value.map(v => JSON.stringify(v)).join(', ')}]` : typeof value === 'string' && (value === '' || /[:#\s]/.test(value)) ? JSON.stringify(value) : String(value)
    return `${key}: ${shown}  # from ${sources[key] ?? 'default'}`
  }).join('\n')
}
