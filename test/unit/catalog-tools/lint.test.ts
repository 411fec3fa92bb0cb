import {afterAll, describe, expect, test} from 'bun:test'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parse, stringify} from 'yaml'
import {lintDescription, lintPath} from '../../../src/catalog-tools/lint.ts'
import {UsageError} from '../../../src/util/errors.ts'
import {renderLintReport} from '../../../src/catalog-tools/render.ts'
import {writePackageTarGz, readPackageFromDirectory} from '../../../src/margo/package/package.ts'
import {MINIMAL_G1, MULTI_PROFILE} from '../catalog/fixtures.ts'

const root = mkdtempSync(join(tmpdir(), 'margo-lint-'))
afterAll(() => rmSync(root, {recursive: true, force: true}))

/** The spec's minimal G1 description with one change applied. */
function g1(change: (d: any) => void): string {
  const d = parse(MINIMAL_G1)
  change(d)
  return stringify(d)
}

function packageDir(name: string, files: Record<string, string>): string {
  const dir = join(root, name)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), {recursive: true})
    writeFileSync(join(dir, path), text)
  }
  return dir
}

const RESOURCES = {
  'resources/description.md': '# Digitron\n',
  'resources/digitron-orchestrator.png': 'PNG fake',
  'resources/license.pdf': '%PDF-1.4 fake',
  'resources/release-notes.md': '## 1.2.1\n',
}

const paths = (problems: {path: string}[]) => problems.map(p => p.path)

describe('the spec examples', () => {
  test('the minimal G1 description is valid', () => {
    const r = lintDescription(MINIMAL_G1)
    expect(r.valid).toBe(true)
    expect(r.errors).toEqual([])
    expect(r.app).toEqual({id: 'com-northstartida-hello-world', name: 'Hello World', version: '1.0', profiles: [{id: 'com-northstartida-hello-world-helm.v3-a', type: 'helm.v3'}]})
  })

  const invalid: [string, (d: any) => void, string, RegExp][] = [
    ['wrong kind', d => { d.kind = 'Application' }, 'kind', /ApplicationDescription/],
    ['an id with uppercase', d => { d.metadata.id = 'Com-Northstar' }, 'metadata.id', /lowercase/],
    ['an id with "."', d => { d.metadata.id = 'com.northstar' }, 'metadata.id', /lowercase/],
    ['an id with "_"', d => { d.metadata.id = 'com_northstar' }, 'metadata.id', /lowercase/],
    ['an id of 201 characters', d => { d.metadata.id = 'a'.repeat(201) }, 'metadata.id', /1 to 200/],
    ['profile type helmchart', d => { d.deploymentProfiles[0].type = 'helmchart' }, 'deploymentProfiles[0].type', /helm\.v3 or compose/],
  ]
  for (const [name, change, path, message] of invalid) {
    test(`${name} is rejected at ${path}`, () => {
      const r = lintDescription(g1(change))
      expect(r.valid).toBe(false)
      expect(r.errors).toEqual([expect.objectContaining({path, message: expect.stringMatching(message)})])
    })
  }

  test('an id of exactly 200 characters is accepted', () => {
    expect(lintDescription(g1(d => { d.metadata.id = 'a'.repeat(200) })).valid).toBe(true)
  })

  test('every problem is reported, not just the first, and warnings come with them', () => {
    const r = lintDescription(g1(d => {
      d.kind = 'Application'
      d.metadata.id = 'Bad_Id'
      d.metadata.catalog.organization = []
      d.deploymentProfiles[0].type = 'helmchart'
      d.metadata.version = 2
    }))
    expect(paths(r.errors).sort()).toEqual(['deploymentProfiles[0].type', 'kind', 'metadata.catalog.organization', 'metadata.id'])
    expect(paths(r.warnings)).toContain('metadata.version')
  })
})

describe('packages', () => {
  test('a folder with every resource the description references is valid and lists its files', async () => {
    const dir = packageDir('full', {'margo.yaml': MULTI_PROFILE, ...RESOURCES})
    const r = await lintPath(dir)
    expect(r.errors).toEqual([])
    expect(r).toMatchObject({valid: true, kind: 'directory', descriptionFile: 'margo.yaml', app: {id: 'com-northstartida-digitron-orchestrator', version: '1.2.1'}})
    expect(r.files).toEqual(Object.keys(RESOURCES).sort())
  })

  test('a referenced resource missing from the folder is an error at its field', async () => {
    const {'resources/license.pdf': _, ...rest} = RESOURCES
    const r = await lintPath(packageDir('no-license', {'margo.yaml': MULTI_PROFILE, ...rest}))
    expect(r.valid).toBe(false)
    expect(r.errors).toEqual([expect.objectContaining({path: 'metadata.catalog.application.licenseFile', message: expect.stringContaining('resources/license.pdf')})])
  })

  test('an invalid description in a folder: its errors, its warnings and its missing resources in one report', async () => {
    const source = MULTI_PROFILE.replace('id: com-northstartida-digitron-orchestrator', 'id: Digitron_Orchestrator').replace('version: 1.2.1', 'version: 1.2')
    const {'resources/digitron-orchestrator.png': _, ...rest} = RESOURCES
    const r = await lintPath(packageDir('bad-id', {'margo.yaml': source, ...rest}))
    expect(r.valid).toBe(false)
    expect(paths(r.errors)).toEqual(['metadata.id', 'metadata.catalog.application.icon'])
    expect(r.warnings).toContainEqual(expect.objectContaining({path: 'metadata.version', code: 'number-as-string'}))
  })

  test('a folder whose only YAML has the wrong kind reports the missing description and the document problems', async () => {
    const r = await lintPath(packageDir('wrong-kind', {'margo.yaml': g1(d => { d.kind = 'Application' })}))
    expect(paths(r.errors)).toEqual(['package', 'kind'])
  })

  test('files the description does not reference are warned about (an OCI push leaves them out)', async () => {
    const r = await lintPath(packageDir('extra', {'margo.yaml': MULTI_PROFILE, ...RESOURCES, 'notes/todo.txt': 'x'}))
    expect(r.valid).toBe(true)
    expect(r.warnings).toContainEqual(expect.objectContaining({path: 'notes/todo.txt', code: 'unreferenced-file'}))
  })

  test('a package archive is read like an upload', async () => {
    const pkg = await readPackageFromDirectory(packageDir('for-archive', {'margo.yaml': MULTI_PROFILE, ...RESOURCES}))
    if (!pkg.ok) throw new Error('fixture invalid')
    const file = join(root, 'digitron.tar.gz')
    writeFileSync(file, writePackageTarGz(pkg))
    const r = await lintPath(file)
    expect(r).toMatchObject({valid: true, kind: 'archive', app: {version: '1.2.1'}})
  })

  test('a file named like an archive that is not gzip is refused', async () => {
    const file = join(root, 'fake.tar.gz')
    writeFileSync(file, 'not gzip')
    expect((await lintPath(file)).errors).toEqual([expect.objectContaining({path: 'package', code: 'not-gzip'})])
  })

  test('a single description file is linted as a document', async () => {
    const file = join(root, 'alone.yaml')
    writeFileSync(file, g1(d => { d.deploymentProfiles[0].type = 'helmchart' }))
    const r = await lintPath(file)
    expect(r.kind).toBe('description')
    expect(paths(r.errors)).toEqual(['deploymentProfiles[0].type'])
  })

  test('a path that does not exist is a usage error (exit 2), not an invalid package', async () => {
    const err = await lintPath(join(root, 'nope')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UsageError)
    expect((err as UsageError).exitCode).toBe(2)
    expect((err as Error).message).toContain('ENOENT')
  })
})

describe('rendering', () => {
  const ctx = {tty: false, color: false, now: new Date()}
  test('piped: one tab-separated line per problem, errors first', () => {
    const r = lintDescription(g1(d => { d.metadata.id = 'X'; d.metadata.version = 1 }))
    expect(renderLintReport(r, ctx).split('\n')).toEqual([
      expect.stringMatching(/^error\tmetadata\.id\t/),
      expect.stringMatching(/^warning\tmetadata\.version\t/),
    ])
  })
  test('on a terminal: a verdict line first', () => {
    const text = renderLintReport(lintDescription(MINIMAL_G1), {...ctx, tty: true})
    expect(text).toStartWith('✓ com-northstartida-hello-world 1.0 is a valid ApplicationDescription (helm.v3)')
  })
})
