import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gunzipSync, gzipSync} from 'node:zlib'
import {extract, pack, type Header} from 'tar-stream'
import {
  readPackageFromDirectory, readPackageFromTarGz, writePackageTarGz, type PackageResult,
} from '../../../src/margo/package/package.ts'
import type {FieldError} from '../../../src/margo/result.ts'
import {MINIMAL_G1, MULTI_PROFILE} from './fixtures.ts'

type Entry = Partial<Header> & {name: string, body?: string | Uint8Array}

/** Builds a gzip'd tar with tar-stream, exactly as given (no sanitising). */
async function tarGz(entries: Entry[]): Promise<Uint8Array> {
  const p = pack()
  const chunks: Uint8Array[] = []
  const done = (async () => { for await (const c of p) chunks.push(c as Uint8Array) })()
  for (const {body, ...header} of entries) {
    await new Promise<void>((resolve, reject) => {
      p.entry({mtime: new Date(0), ...header}, body ?? '', err => (err ? reject(err) : resolve()))
    })
  }
  p.finalize()
  await done
  return new Uint8Array(gzipSync(Buffer.concat(chunks)))
}

const RESOURCES: Record<string, string> = {
  'resources/description.md': '# Digitron\n',
  'resources/digitron-orchestrator.png': '\u0089PNG fake',
  'resources/license.pdf': '%PDF-1.4 fake',
  'resources/release-notes.md': '## 1.2.1\n',
}

function ok(r: PackageResult) {
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  return r
}

function errors(r: PackageResult): FieldError[] {
  if (r.ok) throw new Error('expected the package to be rejected')
  return r.errors
}

let dir: string
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'margo-pkg-')) })
afterAll(() => { rmSync(dir, {recursive: true, force: true}) })

function packageDir(name: string, files: Record<string, string>): string {
  const root = join(dir, name)
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), {recursive: true})
    writeFileSync(join(root, path), content)
  }
  return root
}

describe('spec §3.3 package from a directory', () => {
  test('one description at the root plus referenced resources', async () => {
    const root = packageDir('good', {'margo.yaml': MULTI_PROFILE, 'README.txt': 'extra', '.git/HEAD': 'ref', ...RESOURCES})
    const r = ok(await readPackageFromDirectory(root))
    expect(r.descriptionFile).toBe('margo.yaml')
    expect(r.descriptionSource).toBe(MULTI_PROFILE)
    expect(r.description.metadata.id).toBe('com-northstartida-digitron-orchestrator')
    expect(r.resources.map(x => x.path)).toEqual(['README.txt', ...Object.keys(RESOURCES).sort()])
    expect(new TextDecoder().decode(r.resources[1]!.bytes)).toBe('# Digitron\n')
  })

  test('the description file name is free; other YAML kinds at the root are ignored', async () => {
    const root = packageDir('named', {'hello.yml': MINIMAL_G1, 'values.yaml': 'kind: Other\n'})
    expect(ok(await readPackageFromDirectory(root)).descriptionFile).toBe('hello.yml')
  })

  test('a referenced resource that is missing is an error at its reference', async () => {
    const {['resources/digitron-orchestrator.png']: _icon, ...rest} = RESOURCES
    const root = packageDir('missing-icon', {'margo.yaml': MULTI_PROFILE, ...rest})
    expect(errors(await readPackageFromDirectory(root))).toEqual([
      expect.objectContaining({field: 'metadata.catalog.application.icon', code: 'missing-resource'}),
    ])
  })

  test('no description, or two, is rejected', async () => {
    expect(errors(await readPackageFromDirectory(packageDir('none', {'notes.yaml': 'kind: Other\n'})))[0]!.code).toBe('no-description')
    const two = packageDir('two', {'a.yaml': MINIMAL_G1, 'b.yaml': MINIMAL_G1})
    expect(errors(await readPackageFromDirectory(two))[0]!.code).toBe('multiple-descriptions')
  })

  test('a description below the root does not count', async () => {
    const root = packageDir('nested', {'sub/margo.yaml': MINIMAL_G1})
    expect(errors(await readPackageFromDirectory(root))[0]!.code).toBe('no-description')
  })

  test('description errors come back with their field paths', async () => {
    const root = packageDir('invalid', {'margo.yaml': MINIMAL_G1.replace('kind: ApplicationDescription', 'kind: ApplicationDescription\nx-bad-extensions: 1')})
    expect(errors(await readPackageFromDirectory(root))).toEqual([expect.objectContaining({field: 'x-bad-extensions'})])
  })

  test('a symbolic link inside the package is refused', async () => {
    const root = packageDir('link', {'margo.yaml': MINIMAL_G1})
    symlinkSync('/etc/passwd', join(root, 'passwd'))
    expect(errors(await readPackageFromDirectory(root))).toEqual([expect.objectContaining({field: 'passwd', code: 'link'})])
  })

  test('entry and size limits apply', async () => {
    const root = packageDir('big', {'margo.yaml': MINIMAL_G1, 'a.txt': 'x'.repeat(2000), 'b.txt': 'y'})
    expect(errors(await readPackageFromDirectory(root, {maxEntries: 2}))[0]!.code).toBe('too-many-entries')
    expect(errors(await readPackageFromDirectory(root, {maxBytes: 1000}))[0]!.code).toBe('too-large')
  })
})

describe('spec §3.3 package from a tar.gz', () => {
  const goodEntries = (prefix: string): Entry[] => [
    ...(prefix ? [{name: prefix, type: 'directory' as const, mode: 0o755}] : []),
    {name: `${prefix}margo.yaml`, body: MULTI_PROFILE},
    ...Object.entries(RESOURCES).map(([name, body]) => ({name: `${prefix}${name}`, body})),
  ]

  test('inside a single top-level folder', async () => {
    const r = ok(await readPackageFromTarGz(await tarGz(goodEntries('digitron-1.2.1/'))))
    expect(r.descriptionFile).toBe('margo.yaml')
    expect(r.resources.map(x => x.path)).toEqual(Object.keys(RESOURCES).sort())
  })

  test('at the archive root, with ./ prefixes', async () => {
    const r = ok(await readPackageFromTarGz(await tarGz(goodEntries('./'))))
    expect(r.description.metadata.version).toBe('1.2.1')
  })

  test('not gzip, and gzip that is not tar, are rejected', async () => {
    expect(errors(await readPackageFromTarGz(new TextEncoder().encode(MINIMAL_G1)))[0]!.code).toBe('not-gzip')
    expect(errors(await readPackageFromTarGz(new Uint8Array(gzipSync(Buffer.from('x'.repeat(1024))))))[0]!.code).toBe('not-tar')
  })
})

describe('archive safety: unsafe entries fail the whole package before anything is used', () => {
  const withDescription = (extra: Entry): Entry[] => [{name: 'app/margo.yaml', body: MINIMAL_G1}, extra]

  test.each([
    ['a ../ path', {name: 'app/../x', body: 'evil'}, 'unsafe-path'],
    ['a leading ../ path', {name: '../x', body: 'evil'}, 'unsafe-path'],
    ['an absolute path', {name: '/etc/passwd', body: 'evil'}, 'unsafe-path'],
    ['a symbolic link', {name: 'app/passwd', type: 'symlink', linkname: '/etc/passwd'}, 'link'],
    ['a hard link', {name: 'app/hard', type: 'link', linkname: 'app/margo.yaml'}, 'link'],
    ['a setuid file', {name: 'app/run.sh', body: '#!/bin/sh', mode: 0o4755}, 'mode-bits'],
    ['a setgid folder', {name: 'app/dir', type: 'directory', mode: 0o2755}, 'mode-bits'],
    ['a sticky folder', {name: 'app/tmp', type: 'directory', mode: 0o1777}, 'mode-bits'],
    ['a character device', {name: 'app/null', type: 'character-device', devmajor: 1, devminor: 3}, 'special-file'],
    ['a fifo', {name: 'app/pipe', type: 'fifo'}, 'special-file'],
  ] as [string, Entry, string][])('%s is rejected', async (_label, entry, code) => {
    const e = errors(await readPackageFromTarGz(await tarGz(withDescription(entry))))
    expect(e).toEqual([expect.objectContaining({code})])
  })

  test('a duplicated entry is rejected', async () => {
    const e = errors(await readPackageFromTarGz(await tarGz([{name: 'app/margo.yaml', body: MINIMAL_G1}, {name: 'app/./margo.yaml', body: 'kind: Other'}])))
    expect(e[0]!.code).toBe('duplicate-entry')
  })

  test('more entries than allowed is rejected', async () => {
    const many = Array.from({length: 12}, (_, i) => ({name: `app/resources/f${i}.txt`, body: 'x'}))
    const e = errors(await readPackageFromTarGz(await tarGz([{name: 'app/margo.yaml', body: MINIMAL_G1}, ...many]), {maxEntries: 10}))
    expect(e[0]!.code).toBe('too-many-entries')
  })

  test('the default limit is 1000 entries', async () => {
    const many = Array.from({length: 1000}, (_, i) => ({name: `app/resources/f${i}.txt`, body: ''}))
    const e = errors(await readPackageFromTarGz(await tarGz([{name: 'app/margo.yaml', body: MINIMAL_G1}, ...many])))
    expect(e[0]!.code).toBe('too-many-entries')
  })

  test('content beyond the size limit is rejected', async () => {
    const e = errors(await readPackageFromTarGz(await tarGz(withDescription({name: 'app/big.bin', body: 'x'.repeat(5000)})), {maxBytes: 4096}))
    expect(e[0]!.code).toBe('too-large')
  })

  test('a decompression bomb is stopped at the size limit (default 20 MiB)', async () => {
    const bomb = await tarGz(withDescription({name: 'app/zeros.bin', body: new Uint8Array(21 * 1024 * 1024)}))
    expect(bomb.length).toBeLessThan(100 * 1024)
    const e = errors(await readPackageFromTarGz(bomb))
    expect(e[0]!.code).toBe('too-large')
  })
})

describe('writePackageTarGz', () => {
  test('is deterministic and reads back to the same package', async () => {
    const root = packageDir('publish', {'margo.yaml': MULTI_PROFILE, ...RESOURCES})
    const pkg = ok(await readPackageFromDirectory(root))
    const a = writePackageTarGz(pkg)
    const b = writePackageTarGz({...pkg, resources: [...pkg.resources].reverse()})
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true)

    const back = ok(await readPackageFromTarGz(a))
    expect(back.description).toEqual(pkg.description)
    expect(back.descriptionSource).toBe(pkg.descriptionSource)
    expect(back.resources).toEqual(pkg.resources)
  })

  test('has one top-level folder named after the application, with fixed owners and times', async () => {
    const pkg = ok(await readPackageFromDirectory(packageDir('publish2', {'margo.yaml': MINIMAL_G1, 'resources/a/b.txt': 'b'})))
    const headers: Header[] = []
    const ex = extract()
    ex.on('entry', (h, stream, next) => { headers.push(h); stream.on('end', next); stream.resume() })
    await new Promise<void>(resolve => { ex.on('finish', () => resolve()); ex.end(gunzipSync(writePackageTarGz(pkg))) })
    expect(headers.map(h => `${h.type}:${h.name}`)).toEqual([
      'directory:com-northstartida-hello-world/',
      'file:com-northstartida-hello-world/margo.yaml',
      'directory:com-northstartida-hello-world/resources/',
      'directory:com-northstartida-hello-world/resources/a/',
      'file:com-northstartida-hello-world/resources/a/b.txt',
    ])
    expect(headers.every(h => h.mtime.getTime() === 0 && h.uid === 0 && h.gid === 0 && (h.mode & 0o7000) === 0)).toBe(true)
  })

  test('refuses unsafe resource paths', () => {
    const pkg = {description: {metadata: {id: 'x'}} as never, descriptionSource: '', descriptionFile: 'margo.yaml', resources: [{path: '../x', bytes: new Uint8Array()}]}
    expect(() => writePackageTarGz(pkg)).toThrow(RangeError)
  })
})
