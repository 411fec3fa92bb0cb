import {Issues, describe, isRecord, quote, readKind, readText} from './check.ts'
import type {Result} from './result.ts'

export const ONBOARDING_KIND = 'OnboardingRequest'
export const ONBOARDING_API_VERSION = 'onboarding.margo.org/v1alpha1'

export interface OnboardingRequest {
  apiVersion: string
  kind: typeof ONBOARDING_KIND
  /** The client's X.509 certificate as sent (base64 DER, base64 PEM or PEM); decoding is the PKI layer's job. */
  certificate: string
}

export interface OnboardingParseOptions {
  /**
   * Accept any non-empty `apiVersion`. By default it must name a version of a `margo.org`
   * API group (`onboarding.margo.org/v1alpha1`, `margo.org/v1`, …): unknown versions are
   * tolerated, but a bare `v1` or an unrelated group is refused, so a request meant for some
   * other API is not taken for an onboarding.
   */
  anyApiVersion?: boolean
}

const MARGO_API_VERSION = /^([a-z0-9-]+\.)*margo\.org\/[A-Za-z0-9.-]+$/

export function parseOnboardingRequest(json: unknown, options: OnboardingParseOptions = {}): Result<OnboardingRequest> {
  if (!isRecord(json)) return {ok: false, errors: [{field: '', message: `must be a JSON object, got ${describe(json)}`}]}
  const issues = new Issues()
  const apiVersion = readText(issues, json, 'apiVersion', '')
  if (apiVersion !== undefined && !options.anyApiVersion && !MARGO_API_VERSION.test(apiVersion.trim())) {
    issues.add('apiVersion', `must be a margo.org API version such as '${ONBOARDING_API_VERSION}', got ${quote(apiVersion)}`)
  }
  readKind(issues, json, ONBOARDING_KIND)
  const certificate = readText(issues, json, 'certificate', '')
  return issues.result(() => ({apiVersion: apiVersion!, kind: ONBOARDING_KIND, certificate: certificate!}))
}
