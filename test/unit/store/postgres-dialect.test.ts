import {expect, test} from 'bun:test'
import {toPostgresPlaceholders} from '../../../src/server/store/postgres/dialect.ts'
import {isPostgresUrl} from '../../../src/server/store/engine.ts'

test('? placeholders are numbered in order; ?N keeps its number', () => {
  expect(toPostgresPlaceholders('SELECT * FROM t WHERE a = ? AND b = ?')).toBe('SELECT * FROM t WHERE a = $1 AND b = $2')
  expect(toPostgresPlaceholders('INSERT INTO leases VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE SET holder = ?2 WHERE expires_at < ?4'))
    .toBe('INSERT INTO leases VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET holder = $2 WHERE expires_at < $4')
})

test('a ? inside a string, a quoted name or a comment stays a character', () => {
  expect(toPostgresPlaceholders(`SELECT '?', 'it''s ?', "odd?name" FROM t -- why?\nWHERE a = ?`))
    .toBe(`SELECT '?', 'it''s ?', "odd?name" FROM t -- why?\nWHERE a = $1`)
})

test('a database location is a PostgreSQL URL or a SQLite path', () => {
  expect(isPostgresUrl('postgres://margo@db:5432/margo')).toBe(true)
  expect(isPostgresUrl('postgresql://db/margo')).toBe(true)
  expect(isPostgresUrl('/var/lib/margo/margo.db')).toBe(false)
  expect(isPostgresUrl(':memory:')).toBe(false)
})
