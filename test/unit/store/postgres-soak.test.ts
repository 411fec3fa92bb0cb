// The soak test the PostgreSQL driver behind the store's interface must pass (today postgres.js;
// a replacement, such as Bun's own client, would have to pass it first): several processes at
// once, each on its own connection, mixing tagged reads, committed, rolled-back and nested
// transactions, while their notification and leadership connections run beside. Every answer
// must belong to its question and every counter must equal what was committed.
import {expect, test} from 'bun:test'
import {join} from 'node:path'
import {Store} from '../../../src/server/store/store.ts'
import {TEST_DATABASE_URL} from '../../server/test-database.ts'

const onPostgres = test.skipIf(!TEST_DATABASE_URL)
const PROCESSES = 4
const DURATION_MS = 3_000

onPostgres('several processes hammering one database get their own answers and keep their counts', async () => {
  const schema = `soak_${crypto.randomUUID().slice(0, 8)}`
  const setup = new Store(TEST_DATABASE_URL!, {schema})
  setup.db.exec('CREATE TABLE soak (name TEXT PRIMARY KEY, n INTEGER NOT NULL)')
  for (let p = 0; p < PROCESSES; p++) setup.db.query('INSERT INTO soak (name, n) VALUES (?, 0)').run(`p${p}`)
  try {
    const runs = Array.from({length: PROCESSES}, (_, p) => Bun.spawn([process.execPath, join(import.meta.dir, 'fixtures/soak-client.ts'), TEST_DATABASE_URL!, schema, `p${p}`, String(DURATION_MS)], {stdout: 'pipe', stderr: 'inherit'}))
    const results = await Promise.all(runs.map(async r => {
      const out = await new Response(r.stdout).text()
      expect(await r.exited).toBe(0)
      return JSON.parse(out) as {name: string, reads: number, commits: number, rollbacks: number, wrong: string[]}
    }))
    for (const r of results) {
      expect({name: r.name, wrong: r.wrong}).toEqual({name: r.name, wrong: []})
      expect(r.reads).toBeGreaterThan(100)
      expect(r.commits).toBeGreaterThan(10)
      expect(r.rollbacks).toBeGreaterThan(10)
    }
    const counts = setup.db.query('SELECT name, n FROM soak ORDER BY name').all() as {name: string, n: number}[]
    expect(counts).toEqual(results.map(r => ({name: r.name, n: r.commits})).sort((a, b) => a.name.localeCompare(b.name)))
  } finally {
    setup.db.exec(`DROP SCHEMA ${schema} CASCADE`)
    setup.close()
  }
}, 30_000)
