import {describe, expect, test} from 'bun:test'
import {parseOnboardingRequest} from '../../../src/margo/onboarding.ts'

const VALID = {apiVersion: 'onboarding.margo.org/v1alpha1', kind: 'OnboardingRequest', certificate: 'MIIDdzCCAl+gAwIBAgIEb1...'}
const fieldsOf = (json: unknown, anyApiVersion = false) => {
  const r = parseOnboardingRequest(json, {anyApiVersion})
  return r.ok ? [] : r.errors.map(e => e.field)
}

describe('WFM-05: OnboardingRequest', () => {
  test('the spec example is accepted', () => {
    const r = parseOnboardingRequest(VALID)
    expect(r).toEqual({ok: true, value: VALID as never})
  })

  test('all three members are required strings; certificate must not be empty (device-supplier 4.2, 4.3)', () => {
    const {certificate: _, ...noCert} = VALID
    expect(fieldsOf(noCert)).toEqual(['certificate'])
    expect(fieldsOf({...VALID, certificate: ''})).toEqual(['certificate'])
    expect(fieldsOf({...VALID, certificate: 42})).toEqual(['certificate'])
    expect(fieldsOf({})).toEqual(['apiVersion', 'kind', 'certificate'])
    expect(fieldsOf('nope')).toEqual([''])
  })

  test('kind must be exactly OnboardingRequest (device-supplier 4.5, 4.6)', () => {
    const {kind: _, ...noKind} = VALID
    expect(fieldsOf(noKind)).toEqual(['kind'])
    expect(fieldsOf({...VALID, kind: 'WrongKind'})).toEqual(['kind'])
    expect(fieldsOf({...VALID, kind: 'onboardingrequest'})).toEqual(['kind'])
  })

  test('A15: other versions of a margo.org group are tolerated; a bare "v1" is not (device-supplier 4.1)', () => {
    expect(fieldsOf({...VALID, apiVersion: 'onboarding.margo.org/v1'})).toEqual([])
    expect(fieldsOf({...VALID, apiVersion: 'margo.org/v1alpha1'})).toEqual([])
    expect(fieldsOf({...VALID, apiVersion: 'v1'})).toEqual(['apiVersion'])
    expect(fieldsOf({...VALID, apiVersion: 'sed'})).toEqual(['apiVersion'])
    expect(fieldsOf({...VALID, apiVersion: 'example.com/v1'})).toEqual(['apiVersion'])
    const r = parseOnboardingRequest({...VALID, apiVersion: 'v1'})
    expect(!r.ok && r.errors[0]!.message).toContain('onboarding.margo.org/v1alpha1')
  })

  test('anyApiVersion accepts any non-empty apiVersion', () => {
    expect(fieldsOf({...VALID, apiVersion: 'v1'}, true)).toEqual([])
    expect(fieldsOf({...VALID, apiVersion: ''}, true)).toEqual(['apiVersion'])
  })
})
