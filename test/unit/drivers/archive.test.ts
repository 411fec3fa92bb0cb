import {afterEach, describe, expect, test} from 'bun:test'
import {mkdtempSync, readFileSync, readdirSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {normaliseEntryPath, readComposeArchive, unpackComposePackage} from '../../../src/agent/drivers/archive.ts'
import {DriverError} from '../../../src/agent/drivers/errors.ts'
import {buildTar, COMPOSE_YAML, type TarEntry} from './archive-builder.ts'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})
function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'margo-archive-'))
  dirs.push(d)
  return join(d, 'out')
}

async function rejection(entries: TarEntry[] | Uint8Array): Promise<DriverError> {
  const bytes = entries instanceof Uint8Array ? entries : await buildTar(entries)
  const dest = scratch()
  try {
    await unpackComposePackage(bytes, dest)
  } catch (e) {
    if (!(e instanceof DriverError)) throw e
    expect(e.code).toBe('PACKAGE_INVALID')
    // Validation happens before extraction: nothing was written.
    let written: string[] = []
    try {
      written = readdirSync(dest)
    } catch {
      // dest never created
    }
    expect(written).toEqual([])
    return e
  }
  throw new Error('expected the package to be refused')
}

const good: TarEntry[] = [
  {name: 'app/'},
  {name: 'app/compose.yaml', content: COMPOSE_YAML},
  {name: 'app/config/'},
  {name: 'app/config/app.conf', content: 'x=1\n'},
  {name: 'app/bin/start.sh', content: '#!/bin/sh\n', mode: 0o775},
]

describe('compose package archives', () => {
  test('CL-37: a package with one top-level directory holding compose.yaml is extracted with safe permissions', async () => {
    const dest = scratch()
    const out = await unpackComposePackage(await buildTar(good), dest)
    expect(out).toEqual({projectDir: join(dest, 'app'), composeFile: join(dest, 'app', 'compose.yaml'), form: 'archive'})
    expect(readFileSync(out.composeFile, 'utf8')).toBe(COMPOSE_YAML)
    expect(statSync(join(dest, 'app/config/app.conf')).mode & 0o7777).toBe(0o644)
    expect(statSync(join(dest, 'app/bin/start.sh')).mode & 0o7777).toBe(0o755)
    expect(statSync(join(dest, 'app/bin')).mode & 0o7777).toBe(0o755)
  })

  test('CL-37: ./-prefixed names, a git-archive pax header and implied directories are fine', async () => {
    const archive = await readComposeArchive(await buildTar([
      {name: 'pax_global_header', type: 'pax-global-header', content: '52 comment=0123456789abcdef0123456789abcdef01234567\n'},
      {name: './'},
      {name: './app/compose.yaml', content: COMPOSE_YAML},
    ]))
    expect(archive.root).toBe('app')
    expect(archive.entries.map(e => e.path)).toEqual(['app/compose.yaml'])
  })

  test('CL-37: compose.yaml at the archive root is accepted', async () => {
    const dest = scratch()
    const out = await unpackComposePackage(await buildTar([{name: 'compose.yaml', content: COMPOSE_YAML}, {name: 'config/a.conf', content: 'a'}]), dest)
    expect(out.projectDir).toBe(dest)
  })

  test('CL-37: ../ traversal is refused', async () => {
    expect((await rejection([{name: 'app/compose.yaml', content: COMPOSE_YAML}, {name: 'app/../../evil', content: 'x'}])).message).toContain("'..'")
    await rejection([{name: '../evil/compose.yaml', content: COMPOSE_YAML}])
  })

  test('CL-37: absolute paths are refused', async () => {
    expect((await rejection([{name: 'app/compose.yaml', content: COMPOSE_YAML}, {name: '/etc/passwd', content: 'root::0:0::/:/bin/sh'}])).message).toContain('absolute')
  })

  test('CL-37: symbolic links are refused, pointing out or not', async () => {
    expect((await rejection([{name: 'app/compose.yaml', content: COMPOSE_YAML}, {name: 'app/passwd', type: 'symlink', linkname: '/etc/passwd'}])).message).toContain('symbolic link')
    await rejection([{name: 'app/compose.yaml', content: COMPOSE_YAML}, {name: 'app/up', type: 'symlink', linkname: '../..'}])
    await rejection([{name: 'app/compose.yaml', content: COMPOSE_YAML}, {name: 'app/same', type: 'symlink', linkname: 'compose.yaml'}])
  })

  test('CL-37: hard links are refused', async () => {
    expect((await rejection([{name: 'app/compose.yaml', content: COMPOSE_YAML}, {name: 'app/shadow', type: 'link', linkname: '/etc/shadow'}])).message).toContain('hard link')
  })

  test('CL-37: setuid, setgid and sticky bits are refused', async () => {
    for (const mode of [0o4755, 0o2755, 0o1777]) {
      expect((await rejection([{name: 'app/compose.yaml', content: COMPOSE_YAML}, {name: 'app/tool', content: 'x', mode}])).message).toContain('setuid')
    }
    await rejection([{name: 'app/', mode: 0o1777}, {name: 'app/compose.yaml', content: COMPOSE_YAML}])
  })

  test('CL-37: device files and fifos are refused', async () => {
    for (const type of ['character-device', 'block-device', 'fifo'] as const) {
      await rejection([{name: 'app/compose.yaml', content: COMPOSE_YAML}, {name: 'app/dev', type}])
    }
  })

  test('CL-37: two top-level directories are refused', async () => {
    expect((await rejection([{name: 'a/compose.yaml', content: COMPOSE_YAML}, {name: 'b/compose.yaml', content: COMPOSE_YAML}])).message).toContain('exactly one top-level directory')
  })

  test('CL-37: a package without compose.yaml is refused; other compose file names are named in the error', async () => {
    expect((await rejection([{name: 'app/README', content: 'x'}])).message).toContain('no app/compose.yaml')
    for (const name of ['docker-compose.yml', 'docker-compose.yaml', 'compose.yml']) {
      expect((await rejection([{name: `app/${name}`, content: COMPOSE_YAML}])).message).toContain(`must name it compose.yaml`)
    }
  })

  test('CL-37: duplicate entries and files used as directories are refused', async () => {
    await rejection([{name: 'app/compose.yaml', content: COMPOSE_YAML}, {name: 'app/compose.yaml', content: 'services: {}'}])
    await rejection([{name: 'app/compose.yaml', content: COMPOSE_YAML}, {name: 'app/f', content: 'x'}, {name: 'app/f/g', content: 'y'}])
    await rejection([{name: 'app/compose.yaml', content: COMPOSE_YAML}, {name: 'app/d/g', content: 'y'}, {name: 'app/d', content: 'x'}])
  })

  test('CL-37: entry count and size limits, and gzip bombs, are refused', async () => {
    const many: TarEntry[] = [{name: 'app/compose.yaml', content: COMPOSE_YAML}]
    for (let i = 0; i < 20; i++) many.push({name: `app/f${i}`, content: 'x'})
    const bytes = await buildTar(many)
    await expect(readComposeArchive(bytes, {maxEntries: 10, maxTotalBytes: 1 << 20})).rejects.toThrow('more than 10 entries')
    const big = await buildTar([{name: 'app/compose.yaml', content: COMPOSE_YAML}, {name: 'app/big', content: new Uint8Array(200_000)}])
    await expect(readComposeArchive(big, {maxEntries: 10, maxTotalBytes: 100_000})).rejects.toThrow('100000 bytes')
  })

  test('CL-37: backslashes and control characters in names are refused', async () => {
    expect(() => normaliseEntryPath('app\\..\\evil')).toThrow(DriverError)
    expect(() => normaliseEntryPath('app/a\nb')).toThrow(DriverError)
    expect(normaliseEntryPath('./app//x/./y')).toBe('app/x/y')
  })

  test('corrupt gzip, an empty archive and an uncompressed tar are PACKAGE_INVALID', async () => {
    await rejection(new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4]))
    await rejection(gzipSync(new Uint8Array(1024)))
    expect((await rejection(await buildTar([{name: 'app/compose.yaml', content: COMPOSE_YAML}], false))).message).toContain('uncompressed tar')
  })
})

/** One tar entry written byte by byte: a ustar header with any type flag, then its body padded to 512. */
function rawEntry(typeflag: string, name: string, body: string | Uint8Array = '', sizeField?: number): Uint8Array {
  const data = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body)
  const block = Buffer.alloc(512)
  const put = (offset: number, text: string) => block.write(text, offset, 'latin1')
  const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, '0')
  put(0, name)
  put(100, octal(typeflag === '5' ? 0o755 : 0o644, 8))
  put(108, octal(0, 8))
  put(116, octal(0, 8))
  put(124, octal(sizeField ?? data.length, 12))
  put(136, octal(0, 12))
  put(148, '        ')
  put(156, typeflag)
  put(257, 'ustar')
  put(263, '00')
  let sum = 0
  for (const byte of block) sum += byte
  put(148, `${octal(sum, 7)} `)
  return Buffer.concat([block, data, Buffer.alloc((512 - (data.length % 512)) % 512)])
}

/** A pax extended header body: one `<length> <key>=<value>` record per pair. */
function paxRecords(pairs: Record<string, string>): string {
  return Object.entries(pairs).map(([k, v]) => {
    const rest = ` ${k}=${v}\n`
    let len = rest.length + 1
    while (`${len}${rest}`.length !== len) len = `${len}${rest}`.length
    return `${len}${rest}`
  }).join('')
}

const rawTar = (...entries: Uint8Array[]) => gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]))
const composeEntries = () => [rawEntry('5', 'app/'), rawEntry('0', 'app/compose.yaml', COMPOSE_YAML)]

describe('tar entry types the unpacker does not know', () => {
  test('a hand-built archive of files and directories is accepted (the builder is sound)', async () => {
    const archive = await readComposeArchive(rawTar(...composeEntries(), rawEntry('\0', 'app/old-style', 'x')))
    expect(archive.entries.map(e => `${e.type} ${e.path}`)).toEqual(['directory app', 'file app/compose.yaml', 'file app/old-style'])
  })

  test('a GNU sparse file is refused, not written as a regular file', async () => {
    const e = await rejection(rawTar(...composeEntries(), rawEntry('S', 'app/data', 'sparse map and data')))
    expect(e.message).toContain("'S'")
  })

  test('contiguous files, volume labels, multi-volume parts and other unknown flags are refused', async () => {
    for (const flag of ['7', 'V', 'M', 'D', 'X', 'A', 'Z']) {
      await rejection(rawTar(...composeEntries(), rawEntry(flag, 'app/odd', 'x')))
    }
  })

  test('a pax global header is skipped when it only carries a comment or metadata', async () => {
    const global = rawEntry('g', 'pax_global_header', paxRecords({comment: '0123456789abcdef', mtime: '1700000000'}))
    const archive = await readComposeArchive(rawTar(global, ...composeEntries()))
    expect(archive.entries.map(e => e.path)).toEqual(['app', 'app/compose.yaml'])
  })

  test('a pax global header that would rename, resize or make sparse every entry is refused', async () => {
    for (const pairs of [{path: 'app/compose.yaml'}, {size: '0'}, {linkpath: '/etc/passwd'}, {'GNU.sparse.major': '1'}] as Record<string, string>[]) {
      await rejection(rawTar(rawEntry('g', 'pax_global_header', paxRecords(pairs)), ...composeEntries()))
    }
  })

  test('per-entry pax headers: long names and sizes are honoured, sparse files refused', async () => {
    const long = `app/${'d'.repeat(120)}/conf`
    const archive = await readComposeArchive(rawTar(
      ...composeEntries(),
      rawEntry('x', 'PaxHeaders/conf', paxRecords({path: long})), rawEntry('0', 'app/short', 'long-named'),
      // The data length comes from the pax header, not the ustar size field.
      rawEntry('x', 'PaxHeaders/sized', paxRecords({size: '5'})), rawEntry('0', 'app/sized', 'sized', 0),
      rawEntry('L', '././@LongLink', `app/${'g'.repeat(120)}\0`), rawEntry('0', 'app/gnu', 'gnu-long'),
    ))
    expect(archive.entries.map(e => [e.path, e.data && Buffer.from(e.data).toString()])).toEqual([
      ['app', undefined], ['app/compose.yaml', COMPOSE_YAML], [long, 'long-named'], ['app/sized', 'sized'], [`app/${'g'.repeat(120)}`, 'gnu-long'],
    ])
    const sparse = rawEntry('x', 'PaxHeaders/data', paxRecords({'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': 'app/data', 'GNU.sparse.realsize': '4096'}))
    expect((await rejection(rawTar(...composeEntries(), sparse, rawEntry('0', 'app/GNUSparseFile.0/data', '1\n0\n4096\n')))).message).toContain('sparse')
  })
})

describe('raw compose files (A17)', () => {
  test('A17: a package that is not gzip is a compose.yaml itself', async () => {
    const dest = scratch()
    const out = await unpackComposePackage(new TextEncoder().encode(COMPOSE_YAML), dest)
    expect(out).toEqual({projectDir: dest, composeFile: join(dest, 'compose.yaml'), form: 'compose-file'})
    expect(readFileSync(out.composeFile, 'utf8')).toBe(COMPOSE_YAML)
  })

  test('A17: bytes that are neither gzip nor a YAML mapping are refused', async () => {
    await rejection(new TextEncoder().encode('just a string'))
    await rejection(new TextEncoder().encode('services: [unclosed\n'))
    await rejection(new Uint8Array([0xff, 0xfe, 0x00, 0x01]))
  })
})
