/**
 * Kubernetes-style label selectors over device labels: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
 * `k notin (a,b)`, `k` (the label exists), `!k` (it does not); a comma means AND. The empty
 * selector matches every device, which is how a rollout reaches the whole fleet.
 *
 * As in Kubernetes, `k!=v` and `k notin (…)` also match devices without the label `k`.
 */
import {labelKeyProblem, labelValueProblem} from './labels.ts'

export type Operator = 'eq' | 'neq' | 'in' | 'notin' | 'exists' | 'notexists'

export interface Requirement {
  key: string
  operator: Operator
  values: string[]
}

export interface Selector {
  requirements: Requirement[]
}

export interface SelectorError {
  /** 0-based offset into the selector text where the problem is. */
  position: number
  message: string
}

export type SelectorResult = {ok: true, selector: Selector} | {ok: false, error: SelectorError}

type TokenKind = 'word' | '!' | '=' | '==' | '!=' | ',' | '(' | ')' | 'end'
interface Token {
  kind: TokenKind
  text: string
  position: number
}

class ParseFailure extends Error {
  constructor(readonly position: number, message: string) {
    super(message)
  }
}

const SPECIAL = new Set([' ', '\t', '\n', '\r', ',', '(', ')', '=', '!'])

function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue }
    if (c === '=' || c === '!') {
      const two = text.slice(i, i + 2)
      if (two === '==' || two === '!=') {
        tokens.push({kind: two, text: two, position: i})
        i += 2
      } else {
        tokens.push({kind: c, text: c, position: i})
        i++
      }
      continue
    }
    if (c === ',' || c === '(' || c === ')') {
      tokens.push({kind: c, text: c, position: i})
      i++
      continue
    }
    const start = i
    while (i < text.length && !SPECIAL.has(text[i]!)) i++
    tokens.push({kind: 'word', text: text.slice(start, i), position: start})
  }
  tokens.push({kind: 'end', text: '', position: text.length})
  return tokens
}

const describeToken = (t: Token) => (t.kind === 'end' ? 'the end of the selector' : JSON.stringify(t.text))

class Parser {
  private i = 0
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i]!
  }

  private next(): Token {
    return this.tokens[this.i++]!
  }

  private fail(t: Token, message: string): never {
    throw new ParseFailure(t.position, message)
  }

  private key(): string {
    const t = this.next()
    if (t.kind !== 'word') this.fail(t, `expected a label key, got ${describeToken(t)}`)
    const problem = labelKeyProblem(t.text)
    if (problem) this.fail(t, `label key ${JSON.stringify(t.text)}: ${problem}`)
    return t.text
  }

  private value(allowEmpty: boolean): string {
    const t = this.peek()
    if (t.kind !== 'word') {
      if (allowEmpty && (t.kind === ',' || t.kind === 'end')) return ''
      this.fail(t, `expected a label value, got ${describeToken(t)}`)
    }
    this.next()
    const problem = labelValueProblem(t.text)
    if (problem) this.fail(t, `label value ${JSON.stringify(t.text)}: ${problem}`)
    return t.text
  }

  private valueSet(key: string): string[] {
    const open = this.next()
    if (open.kind !== '(') this.fail(open, `expected "(" to start the values of ${key}, got ${describeToken(open)}`)
    const values: string[] = []
    for (;;) {
      values.push(this.value(false))
      const t = this.next()
      if (t.kind === ')') break
      if (t.kind !== ',') this.fail(t, `expected "," or ")" in the values of ${key}, got ${describeToken(t)}`)
    }
    return values
  }

  private requirement(): Requirement {
    if (this.peek().kind === '!') {
      this.next()
      return {key: this.key(), operator: 'notexists', values: []}
    }
    const key = this.key()
    const t = this.peek()
    if (t.kind === ',' || t.kind === 'end') return {key, operator: 'exists', values: []}
    if (t.kind === '=' || t.kind === '==' || t.kind === '!=') {
      this.next()
      return {key, operator: t.kind === '!=' ? 'neq' : 'eq', values: [this.value(true)]}
    }
    if (t.kind === 'word' && (t.text === 'in' || t.text === 'notin')) {
      this.next()
      return {key, operator: t.text, values: this.valueSet(key)}
    }
    return this.fail(t, `expected =, ==, !=, in, notin, "," or the end after label key ${key}, got ${describeToken(t)}`)
  }

  selector(): Selector {
    const requirements: Requirement[] = []
    if (this.peek().kind === 'end') return {requirements}
    for (;;) {
      requirements.push(this.requirement())
      const t = this.next()
      if (t.kind === 'end') return {requirements}
      if (t.kind !== ',') this.fail(t, `expected "," between requirements, got ${describeToken(t)}`)
    }
  }
}

export function parseSelector(text: string): SelectorResult {
  try {
    return {ok: true, selector: new Parser(tokenize(text)).selector()}
  } catch (err) {
    if (err instanceof ParseFailure) return {ok: false, error: {position: err.position, message: err.message}}
    throw err
  }
}

/** One line for an error message: the 1-based column and what is wrong there. */
export function describeSelectorError(error: SelectorError): string {
  return `invalid selector at column ${error.position + 1}: ${error.message}`
}

export function matchesRequirement(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key)
  const value = has ? labels[r.key] : undefined
  switch (r.operator) {
    case 'exists': return has
    case 'notexists': return !has
    case 'eq': return has && value === r.values[0]
    case 'neq': return !has || value !== r.values[0]
    case 'in': return has && r.values.includes(value!)
    case 'notin': return !has || !r.values.includes(value!)
  }
}

export function matchesSelector(selector: Selector, labels: Readonly<Record<string, string>>): boolean {
  return selector.requirements.every(r => matchesRequirement(r, labels))
}

/** The canonical text of a selector (`site=a,line in (1,2)`), as stored and shown. */
export function formatSelector(selector: Selector): string {
  return selector.requirements.map(r => {
    switch (r.operator) {
      case 'exists': return r.key
      case 'notexists': return `!${r.key}`
      case 'eq': return `${r.key}=${r.values[0]}`
      case 'neq': return `${r.key}!=${r.values[0]}`
      default: return `${r.key} ${r.operator} (${r.values.join(',')})`
    }
  }).join(',')
}
