import {describe, expect, test} from 'bun:test'
import {readFileSync, readdirSync, statSync} from 'node:fs'
import {dirname, join, normalize, relative} from 'node:path'

// The dependency rules live in docs/architecture.md (the "may import" table); this test reads
// them from there, so the document and the code cannot drift apart.
const ROOT = join(import.meta.dir, '../../..')

function allowedImports(): Map<string, Set<string>> {
  const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8')
  const section = doc.split('<!-- layers:begin -->')[1]?.split('<!-- layers:end -->')[0]
  if (!section) throw new Error('docs/architecture.md has no layers table between <!-- layers:begin --> and <!-- layers:end -->')
  const rules = new Map<string, Set<string>>()
  for (const line of section.split('\n')) {
    const cells = line.split('|').map(c => c.trim())
    const folder = /^`([^`]+)`$/.exec(cells[1] ?? '')?.[1]
    if (!folder) continue
    const targets = [...(cells[2] ?? '').matchAll(/`([^`]+)`/g)].map(m => m[1] as string)
    rules.set(folder, new Set(targets))
  }
  return rules
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return /\.tsx?$/.test(name) ? [path] : []
  })
}

/** `src/server/x.ts` → `src/server`; `commands/deploy.ts` → `commands`; `src/main.ts` → `src/main.ts`. */
function unitOf(file: string): string {
  const parts = relative(ROOT, file).split('/')
  if (parts[0] === 'src' && parts.length > 2) return `src/${parts[1]}`
  return parts.length > 2 || parts[0] !== 'src' ? (parts[0] as string) : parts.join('/')
}

/** Relative module specifiers of static imports, re-exports and dynamic imports. */
function importSpecifiers(text: string): string[] {
  const statics = text.matchAll(/(?:^|\n)\s*(?:(?:import|export)\s[^'"]*?\bfrom|import)\s*['"](\.[^'"]+)['"]/g)
  const dynamics = text.matchAll(/import\(\s*['"](\.[^'"]+)['"]\s*\)/g)
  return [...statics, ...dynamics].map(m => m[1] as string)
}

function importsOf(file: string): string[] {
  return importSpecifiers(readFileSync(file, 'utf8')).map(spec => normalize(join(dirname(file), spec)))
}

const rules = allowedImports()
const files = [...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'commands'))]

describe('layers: who may import whom (docs/architecture.md)', () => {
  test('every folder of src/ and commands/ has a rule', () => {
    const units = new Set(files.map(unitOf))
    const missing = [...units].filter(u => !rules.has(u))
    expect(missing).toEqual([])
  })

  test('no import crosses a rule', () => {
    const violations: string[] = []
    for (const file of files) {
      const from = unitOf(file)
      const allowed = rules.get(from)
      if (!allowed) continue
      for (const target of importsOf(file)) {
        const to = unitOf(target)
        if (to === from || allowed.has(to) || allowed.has('*')) continue
        violations.push(`${relative(ROOT, file)} imports ${relative(ROOT, target)} (${from} may import: ${[...allowed].join(', ') || 'nothing'})`)
      }
    }
    expect(violations).toEqual([])
  })

  test('the checker finds every kind of import', () => {
    const text = [
      "import {a} from '../server/a.ts'",
      "import type {B} from './b.ts'",
      'import {',
      '  c,',
      "} from '../../margo/c.ts'",
      "export * from '../util/d.ts'",
      "const e = await import('../tui/e.ts')",
      "import {f} from 'node:fs'",
      "import './g.ts'",
      "const root = join(import.meta.dir, '../../shared')",
    ].join('\n')
    expect(importSpecifiers(text)).toEqual(['../server/a.ts', './b.ts', '../../margo/c.ts', '../util/d.ts', './g.ts', '../tui/e.ts'])
    expect(unitOf(join(ROOT, 'src/server/serve.ts'))).toBe('src/server')
    expect(unitOf(join(ROOT, 'commands/device/list.ts'))).toBe('commands')
    expect(unitOf(join(ROOT, 'src/main.ts'))).toBe('src/main.ts')
    expect(rules.get('src/agent')?.has('src/server')).toBe(false)
  })
})
