/**
 * What SQLite's SQL says differently from PostgreSQL's, for the statements the store shares
 * between the engines. Everything else is written once, in the subset both understand
 * (`ON CONFLICT … DO NOTHING/UPDATE`, `RETURNING`, `coalesce`, `LIMIT … OFFSET`).
 */

/**
 * `?` and `?N` placeholders become `$N`. Quoted strings, quoted names and comments are left as
 * they are, so a `?` inside a literal stays a character.
 */
export function toPostgresPlaceholders(sql: string): string {
  let out = ''
  let next = 1
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!
    if (c === '\'' || c === '"') {
      const end = closing(sql, i, c)
      out += sql.slice(i, end)
      i = end - 1
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i)
      const stop = end === -1 ? sql.length : end
      out += sql.slice(i, stop)
      i = stop - 1
    } else if (c === '?') {
      const digits = /^\d+/.exec(sql.slice(i + 1))?.[0]
      if (digits) {
        out += `$${digits}`
        i += digits.length
      } else {
        out += `$${next++}`
      }
    } else {
      out += c
    }
  }
  return out
}

/** The index just past the quote that closes the one at `start` (a doubled quote is an escaped one). */
function closing(sql: string, start: number, quote: string): number {
  let i = start + 1
  for (;;) {
    const j = sql.indexOf(quote, i)
    if (j === -1) return sql.length
    if (sql[j + 1] === quote) { i = j + 2; continue }
    return j + 1
  }
}

/** The SQL of one statement a command runs in autocommit: what the PostgreSQL adapter sends. */
export function translate(sql: string): string {
  return toPostgresPlaceholders(sql)
}
