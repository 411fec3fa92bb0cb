/**
 * One lowercase-keyed record for both `Headers` and plain records. Names that differ only in
 * case are combined the way HTTP combines repeated fields (", "), so a lookup never depends on
 * how a client capitalised a name.
 */
export function lowercaseHeaders(headers: Headers | Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!headers) return out
  const add = (value: string, name: string): void => {
    const key = name.toLowerCase()
    out[key] = out[key] === undefined ? value : `${out[key]}, ${value}`
  }
  if (headers instanceof Headers) headers.forEach(add)
  else for (const [name, value] of Object.entries(headers)) add(value, name)
  return out
}
