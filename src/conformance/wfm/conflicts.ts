/**
 * Where a conformance step contradicts the Margo specification (G1) or another suite. The
 * specification wins: a WFM that answers as the specification requires gets CONFLICT for such a
 * step, with the reason, instead of FAIL. Codes follow the conformance material's own list.
 */
export interface ConflictEntry {
  code: string
  /** Why the step cannot pass against a correct WFM. */
  reason: string
  /** The specification text that decides it. */
  spec: string
}

export const CONFLICTS = {
  C6: {
    code: 'C6',
    reason: 'If-None-Match: * on a bundle digest the WFM does not have: "*" only matches an existing representation, so the correct answer is 404, not 304',
    spec: 'RFC 9110 §13.1.2; Margo G1 bundle endpoint: 404 when the digest is not available',
  },
  C10: {
    code: 'C10',
    reason: 'the suite expects a fresh, valid, self-signed certificate to be refused, but open enrolment onboards it (201); other suites need exactly that 201',
    spec: 'Margo G1 onboarding: the enrolment policy (open, approval or allow-list) is the WFM\'s choice',
  },
  C13: {
    code: 'C13',
    reason: 'the step posts to /clients/{clientId}/capabilities/{deviceId}, a route of a later API generation that G1 does not define',
    spec: 'Margo G1 (workload-management-api 1.0.0): capabilities are POST/PUT /api/v1/clients/{clientId}/capabilities only',
  },
  C16: {
    code: 'C16',
    reason: 'the step checks a success body ({"status": "capabilities_received"} / {"acknowledgement": "received"}) that the specification does not define; the status code is right',
    spec: 'Margo G1: capabilities answer 201 and status answers 200, with no response body defined',
  },
  C17: {
    code: 'C17',
    reason: 'the suite sends the same request as the bundle-404 step and expects 400 "Invalid request"; for a digest it does not have the WFM must answer 404',
    spec: 'Margo G1 bundle endpoint: "MUST return 404 if it does not have the exact digest referenced"',
  },
  C24: {
    code: 'C24',
    reason: 'the step assumes a new client has no deployments; this WFM gave the client one, so the artifact exists and 200 is the right answer',
    spec: 'Margo G1: the WFM decides what a device is assigned; nothing defines a default',
  },
  C26: {
    code: 'C26',
    reason: 'with no deployment to report on, the suite falls back to the deploymentId "deployment-none-00000000", which is not a UUID; the body is therefore semantically invalid and the WFM answers 422, which the step does not accept',
    spec: 'Margo G1 status: deploymentId is the UUID of the ApplicationDeployment; semantic errors answer 422 (WFM-39)',
  },
} as const satisfies Record<string, ConflictEntry>

export type ConflictCode = keyof typeof CONFLICTS

/**
 * A conflict attached to a step, with the condition under which the WFM's answer is the one
 * the specification requires: either one of `specStatuses`, or (`bodyOnly`) the expected status
 * with only the conflicting body checks failing.
 */
export interface StepConflict {
  code: ConflictCode
  specStatuses?: number[]
  bodyOnly?: boolean
}
