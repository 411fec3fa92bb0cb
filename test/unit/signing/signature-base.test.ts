import {describe, expect, test} from 'bun:test'
import {httpbis} from 'http-message-signatures'
import {plainSignatureBase} from '../../../src/signing/verify.ts'

// The verifier builds the base of parameter-free components itself; it must be byte-identical
// to what the library (and so every signer built on it) produces.
const library = (fields: string[], req: {method: string, url: string}, headers: Record<string, string>) =>
  httpbis.createSignatureBase({fields}, {...req, headers}).flatMap(([key, values]) => values.map(v => `${key}: ${v}`))

describe('the direct signature base matches http-message-signatures', () => {
  const cases: {name: string, fields: string[], url: string, method?: string, headers?: Record<string, string>}[] = [
    {name: 'method and target', fields: ['@method', '@target-uri'], url: 'https://wfm.example:8443/api/v1/clients/x/deployments'},
    {name: 'lower-case method', fields: ['@method', '@path'], url: 'https://wfm.example/a', method: 'get'},
    {name: 'authority on the default port', fields: ['@authority', '@scheme'], url: 'https://WFM.example:443/p'},
    {name: 'authority on another port', fields: ['@authority'], url: 'http://wfm.example:8080/p'},
    {name: 'empty query and path', fields: ['@query', '@path', '@request-target'], url: 'https://wfm.example'},
    {name: 'a query', fields: ['@query', '@request-target'], url: 'https://wfm.example/p?a=1&b=%20'},
    {name: 'header fields with spaces and line folds', fields: ['content-digest', 'X-Custom', 'content-type'],
      url: 'https://wfm.example/', headers: {'content-digest': '  sha-256=:abc=:  ', 'x-custom': 'a\n   b', 'content-type': 'application/json'}},
  ]
  for (const c of cases) {
    test(c.name, () => {
      const req = {method: c.method ?? 'GET', url: c.url}
      const headers = c.headers ?? {}
      expect(plainSignatureBase(c.fields, c.fields.map(f => f.toLowerCase()), req, headers)).toEqual(library(c.fields, req, headers))
    })
  }
})
