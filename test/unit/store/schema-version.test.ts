import {Database} from 'bun:sqlite'
import {expect, test} from 'bun:test'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {MIGRATIONS} from '../../../src/server/store/schema.ts'
import {Store} from '../../../src/server/store/store.ts'
import {OperationError} from '../../../src/util/errors.ts'

test('a SQLite database a newer margo migrated is refused with what to do, and left as it is', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'margo-schema-')), 'margo.db')
  new Store(path).close()
  const raw = new Database(path)
  raw.exec(`PRAGMA user_version = ${MIGRATIONS.length + 3}`)
  raw.close()
  let err: unknown
  try { new Store(path) } catch (e) { err = e }
  expect(err).toBeInstanceOf(OperationError)
  expect((err as Error).message).toBe(`the database is at schema version ${MIGRATIONS.length + 3}, newer than this margo knows (${MIGRATIONS.length}): a newer margo has upgraded it — run that version (or later), or restore a backup taken before the upgrade`)
  const again = new Database(path)
  expect(again.query('PRAGMA user_version').get()).toEqual({user_version: MIGRATIONS.length + 3})
  again.close()
})
