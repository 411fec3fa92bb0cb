import {Args, Flags} from '@oclif/core'
import {MargoCommand} from '../../src/cli/margo-command.ts'
import {writeFileSync} from 'node:fs'
import {outputFlags} from '../../src/cli/flags.ts'
import {UsageError} from '../../src/util/errors.ts'

const SUITE_CHOICES = ['spec', 'wfm-core', 'device-supplier', 'portman', 'all'] as const
const PRECONDITIONS = ['default-deployment', 'deny-list'] as const

export default class ConformanceWfm extends MargoCommand {
  static override summary = 'Run the conformance suites against a WFM, acting as a device'
  static override description = `Plays a device against the WFM at <base-url> (the base its device interface appends /api/v1/... to) with fresh RFC 9421 keys, and runs:
  spec             margo's own checks of the specification's WFM checklist, each step named by its rule (WFM-04 … WFM-51): onboarding, signatures, digests, capabilities, the manifest with its ETag, YAML and bundle by digest, status. Built in, always available;
  wfm-core         the 31 steps of the curated wfm-core collection, with the negative triggers (missing Content-Digest, flipped signature byte, unknown key, invalid enums, If-None-Match: *, Accept: text/plain, …);
  device-supplier  the 43 steps of the device-supplier scenarios;
  portman          the Postman collection through newman and a local signing proxy.
The last three are the Margo project's suites: their files are read at run time from --suites DIR (or MARGO_CONFORMANCE_DIR), a checkout of the Margo project's sandbox repository. Without --suite, spec runs, plus each of them whose files are there (portman only when newman is installed).
Steps that contradict the Margo specification are reported as CONFLICT with the reason and the deciding section; they do not fail the run unless --strict.
The late spec steps and device-supplier need every new client to get a deployment and a deny-listed certificate value: with operator access (--data-dir of a local margo serve, or --operator-url and --operator-token) the command arranges both through the operator API and undoes them afterwards; without it, the dependent steps are SKIPPED.
What the run creates through the operator API is recorded as it goes and undone when it ends, also after a failure or Ctrl-C: its rollouts and deny-list entries are removed, and the devices it onboarded are revoked and labelled margo-conformance-run=<run id> (the operator API cannot delete devices). Because the run rolls out a sample app to every device, it refuses a WFM that has live devices of its own (enrolled active, not offline) unless --allow-live-fleet is given.
Exit 1 when a step failed, 2 when refused, 130 when interrupted.`
  static override examples = [
    {description: 'Test a margo serve on this machine, arranging the set-ups through its operator API', command: '<%= config.bin %> conformance wfm https://127.0.0.1:8443/v1alpha2/margo --data-dir /var/lib/margo'},
    {description: "Test another vendor's WFM with its CA, and write a JUnit report", command: '<%= config.bin %> conformance wfm https://wfm.example:3001/v1alpha2/margo --ca-file wfm-ca.pem --junit conformance.xml'},
    {description: "Add the Margo project's suites from a checkout of its sandbox repository", command: '<%= config.bin %> conformance wfm https://wfm.example:3001/v1alpha2/margo --ca-file wfm-ca.pem --suites ~/margo-sandbox'},
    {description: 'Only wfm-core, signing with RSA-PSS and failing on conflicts too', command: '<%= config.bin %> conformance wfm https://wfm.example/v1alpha2/margo --suite wfm-core --algorithm rsa-pss-sha512 --strict'},
  ]
  static override args = {'base-url': Args.string({description: 'Base URL of the WFM device interface, e.g. https://wfm:8443/v1alpha2/margo', required: true})}
  static override flags = {
    ...outputFlags,
    suite: Flags.string({description: 'Which suite to run (repeatable; default: spec plus the Margo project\'s suites that are available)', options: [...SUITE_CHOICES], multiple: true}),
    suites: Flags.string({description: "Checkout of the Margo project's sandbox repository holding the conformance suites (conformance/, conformance-2/, conformance-backups/)", env: 'MARGO_CONFORMANCE_DIR'}),
    'ca-file': Flags.string({description: "PEM of the CA that signs the WFM's TLS certificate (verification stays on)", env: 'MARGO_CA_FILE'}),
    insecure: Flags.boolean({description: 'Do not verify the WFM\'s TLS certificate (this run only; INSECURE, reported in the output)'}),
    key: Flags.string({description: 'Device private key (PEM) to sign with instead of fresh keys; needs --cert'}),
    cert: Flags.string({description: 'Self-signed device certificate (PEM) matching --key'}),
    algorithm: Flags.string({description: 'Signature algorithm (ecdsa-p256-sha256 by default; fresh keys of the matching type)', options: ['ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'rsa-v1_5-sha256', 'rsa-pss-sha256', 'rsa-pss-sha512', 'ed25519']}),
    'data-dir': Flags.string({description: 'Data dir of a margo serve on this machine: its operator API arranges the set-ups, its CA is trusted', env: 'MARGO_DATA_DIR'}),
    'operator-url': Flags.string({description: 'Operator API of a margo WFM, to arrange the set-ups'}),
    'operator-token': Flags.string({description: 'Bearer token for --operator-url', env: 'MARGO_TOKEN'}),
    assume: Flags.string({description: 'A set-up the WFM already provides by its own configuration (repeatable)', options: [...PRECONDITIONS], multiple: true}),
    newman: Flags.string({description: 'Path of the newman executable for the portman suite (default: newman on PATH)'}),
    junit: Flags.string({description: 'Also write a JUnit XML report to this file (CONFLICT is reported as skipped)'}),
    strict: Flags.boolean({description: 'Fail the run on CONFLICT steps too'}),
    'allow-live-fleet': Flags.boolean({description: 'Run with operator access even when the WFM has live devices that are not the run\'s (they get the sample app while the run lasts)'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(ConformanceWfm)
    // Loaded here: the runner pulls in signing, X.509 and YAML code the other commands do not need.
    const {chooseSuites, runWfmConformance, SUITE_FILES} = await import('../../src/conformance/wfm/run.ts')
    const {lookupSuites} = await import('../../src/conformance/data/suites.ts')
    const {renderWfmReport} = await import('../../src/conformance/wfm/render.ts')
    const {junitXml} = await import('../../src/conformance/common/report.ts')
    const newman = flags.newman ?? Bun.which('newman') ?? undefined
    const chosen = chooseSuites(flags.suite, s => lookupSuites(flags.suites, s, SUITE_FILES[s]).ok && (s !== 'portman' || newman !== undefined))
    if (flags.insecure && flags['ca-file']) throw new UsageError('--insecure and --ca-file contradict each other — pass one of them')
    if (flags.insecure) process.stderr.write('warning: --insecure: the WFM\'s TLS certificate is NOT verified for this run\n')

    // Ctrl-C stops the run and lets it undo its set-up; a second Ctrl-C leaves at once.
    const controller = new AbortController()
    const stop = () => {
      controller.abort()
      process.stderr.write('\ninterrupted — undoing the run\'s set-up (Ctrl-C again to leave it as it is)\n')
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    const report = await runWfmConformance({
      baseUrl: args['base-url'],
      suites: chosen,
      ...(flags.suites ? {suitesDir: flags.suites} : {}),
      ...(flags['ca-file'] ? {caFile: flags['ca-file']} : {}),
      insecure: flags.insecure,
      ...(flags.key ? {keyFile: flags.key} : {}),
      ...(flags.cert ? {certFile: flags.cert} : {}),
      ...(flags.algorithm ? {algorithm: flags.algorithm} : {}),
      ...(flags['data-dir'] ? {dataDir: flags['data-dir']} : {}),
      ...(flags['operator-url'] ? {operatorUrl: flags['operator-url']} : {}),
      ...(flags['operator-token'] ? {operatorToken: flags['operator-token']} : {}),
      ...(flags.assume ? {assume: flags.assume as (typeof PRECONDITIONS)[number][]} : {}),
      ...(flags.newman ? {newman: flags.newman} : {}),
      strict: flags.strict,
      allowLiveFleet: flags['allow-live-fleet'],
      signal: controller.signal,
    }).finally(() => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    })
    if (report.cleanup && !report.cleanup.ok) {
      const failed = report.cleanup.items.filter(i => i.outcome === 'failed')
      process.stderr.write(`warning: could not undo ${failed.map(i => `${i.kind} ${i.id}: ${i.detail ?? 'failed'}`).join('; ')}\n`)
    }
    if (flags.junit) writeFileSync(flags.junit, junitXml(report.suites, `margo conformance wfm ${report.target}`))
    this.emit(flags, report, renderWfmReport)
    if (!report.ok) {
      const failed = report.suites.flatMap(s => s.steps.filter(st => st.result === 'FAIL').map(st => `${s.suite} ${st.id}`))
      const why = failed.length ? `${failed.length} step${failed.length === 1 ? '' : 's'} failed: ${failed.slice(0, 8).join(', ')}${failed.length > 8 ? ', …' : ''}` : 'conflicts found and --strict is set'
      process.stderr.write(`error: conformance run against ${report.target} failed — ${why}\n`)
      this.exit(1)
    }
  }

}
