import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../src/cli/base-command.ts'
import {deployJson, progressPrinter, renderRolloutResult, renderWaitSummary} from '../src/cli/fleet/render.ts'
import {jsonDocument} from '../src/cli/output.ts'
import {DEFAULT_WAIT_TIMEOUT, deployToFleet} from '../src/client/rollouts.ts'

export default class Deploy extends BaseCommand {
  static override summary = 'Deploy an application to devices or to a live label selector (creates or updates a rollout)'
  static override description = [
    'Creates rollout NAME (--name; default: the app id) of APP (APP@VERSION pins a version; without one the rollout follows the latest) to the devices named with --device, or to every device whose labels match --selector — or, when rollout NAME exists, updates it to this request as a new revision (upgrade or install; "unchanged" when nothing differs). A selector stays live: devices that come to match later get the deployment, devices that stop matching lose it. --selector= (empty) targets every device, now and later.',
    'A device runs one rollout of an app: a deploy that would make a second rollout of the same app reach a device is refused, naming the other rollout and the devices. See margo rollout history and margo rollout undo to go back.',
    'Each device gets the profile it runs (helm.v3 on cluster roles, compose on standalone devices; --profile forces one), and devices whose reported resources do not fit the app are listed with the reason. A device the rollout already reaches is updated in place (same deployment id). Parameter values come from --values (a YAML mapping) and --set key=value (repeatable, wins over --values); all are checked before anything changes.',
    '--dry-run shows which device gets which YAML (a diff for updates) without changing anything. --wait follows the rollout until every device reports installed (exit 0) or one fails (exit 1); Ctrl-C stops only the waiting (exit 130), the rollout continues on the server.',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> deploy com-northstartida-hello-world --device 3f0c2a9e-5b1d-4c1e-9a51-0d1e2f3a4b5c',
    "<%= config.bin %> deploy com-northstartida-hello-world@1.0 --selector 'site=plant-7,line in (1,2)' --set greeting=Hi --wait",
    "<%= config.bin %> deploy com-northstartida-hello-world --selector site=plant-7 --values values.yaml --dry-run",
    '<%= config.bin %> deploy com-northstartida-hello-world --selector= --profile compose',
    "<%= config.bin %> deploy com-northstartida-hello-world --name canary --selector 'ring=canary' --set greeting=Hi",
    "<%= config.bin %> deploy com-northstartida-hello-world --selector site=plant-7 --wave 1 --wave 10% --failure-threshold 5% --on-failure rollback",
    "<%= config.bin %> deploy com-northstartida-hello-world --selector= --set-for 'site=berlin greeting=Hallo' --set 'greeting=Hi from ${device.labels.site}'",
  ]
  static override args = {app: Args.string({description: 'Application id, optionally with @version (see: margo app list)', required: true})}
  static override flags = {
    name: Flags.string({char: 'n', summary: 'Rollout name (a DNS label); default: the app id. An existing rollout of that name is updated.'}),
    device: Flags.string({char: 'd', summary: 'Client id (or a unique prefix of it) of a target device (see: margo device list); repeatable.', multiple: true}),
    selector: Flags.string({char: 'l', summary: "Label selector of the target devices, e.g. 'site=plant-7,line in (1,2)'; stays live. Empty: every device."}),
    profile: Flags.string({summary: 'Deployment profile: helm.v3, compose or a profile id.'}),
    set: Flags.string({summary: 'Parameter value as key=value; repeatable. Values are sent as strings.', multiple: true}),
    values: Flags.string({summary: 'YAML file mapping parameter names to values.'}),
    'dry-run': Flags.boolean({summary: 'Show which devices get which YAML, and which are skipped and why; change nothing.'}),
    wait: Flags.boolean({summary: 'Wait until every target is installed (exit 0) or one failed (exit 1).'}),
    timeout: Flags.string({summary: `How long --wait waits: seconds or 90s, 5m (default ${DEFAULT_WAIT_TIMEOUT}).`}),
    'set-for': Flags.string({summary: "Values for the devices a selector matches: 'SELECTOR key=value' (or SELECTOR key=value as two arguments); repeatable, later wins.", multiple: true}),
    wave: Flags.string({summary: 'Stage the rollout: a wave is a count (1), a percentage (10%) or a label selector (canary=true); repeatable; the rest is the last wave.', multiple: true, helpGroup: 'STAGING'}),
    'strategy-file': Flags.string({summary: 'YAML file with waves, maxUnavailable, failureThreshold, waveTimeout, offline, pauseBetween, manual, onFailure; flags override it.', helpGroup: 'STAGING'}),
    'max-unavailable': Flags.string({summary: 'Count or % of a wave updating at once.', helpGroup: 'STAGING'}),
    'failure-threshold': Flags.string({summary: 'Count or % of a wave that may fail before the rollout stops (default 0).', helpGroup: 'STAGING'}),
    'wave-timeout': Flags.string({summary: 'How long a device may take to report installed (default 30m); later counts as failed.', helpGroup: 'STAGING'}),
    offline: Flags.string({summary: 'An offline device: skip (the wave goes on), wait (up to --wave-timeout, the default), fail (counts as failed).', options: ['skip', 'wait', 'fail'], helpGroup: 'STAGING'}),
    'pause-between': Flags.string({summary: 'Wait this long between a healthy wave and the next, e.g. 10m.', helpGroup: 'STAGING'}),
    manual: Flags.boolean({summary: 'Wait for margo rollout resume between waves.', helpGroup: 'STAGING'}),
    'on-failure': Flags.string({summary: 'Past the threshold: pause (default) or rollback (moved devices get the previous revision back).', options: ['pause', 'rollback'], helpGroup: 'STAGING'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Deploy)
    const ctx = this.outputContext()
    const progress = progressPrinter(ctx, text => process.stdout.write(text))
    // Ctrl-C stops only the waiting, once the rollout exists; before that it ends the command as usual.
    const stop = new AbortController()
    const onSignal = () => stop.abort()
    const outcome = await deployToFleet(this.client(flags), {
      app: args.app,
      ...(flags.name ? {name: flags.name} : {}),
      ...(flags.device ? {devices: flags.device} : {}),
      ...(flags.selector !== undefined ? {selector: flags.selector} : {}),
      ...(flags.profile ? {profile: flags.profile} : {}),
      ...(flags.set ? {set: flags.set} : {}),
      ...(flags.values ? {valuesFile: flags.values} : {}),
      dryRun: flags['dry-run'],
      wait: flags.wait,
      ...(flags['set-for'] ? {setFor: flags['set-for']} : {}),
      strategy: {
        ...(flags.wave ? {waves: flags.wave} : {}),
        ...(flags['strategy-file'] ? {strategyFile: flags['strategy-file']} : {}),
        ...(flags['max-unavailable'] ? {maxUnavailable: flags['max-unavailable']} : {}),
        ...(flags['failure-threshold'] ? {failureThreshold: flags['failure-threshold']} : {}),
        ...(flags['wave-timeout'] ? {waveTimeout: flags['wave-timeout']} : {}),
        ...(flags.offline ? {offline: flags.offline} : {}),
        ...(flags['pause-between'] ? {pauseBetween: flags['pause-between']} : {}),
        ...(flags.manual ? {manual: true} : {}),
        ...(flags['on-failure'] ? {onFailure: flags['on-failure']} : {}),
      },
      ...(flags.timeout ? {timeout: flags.timeout} : {}),
    }, {
      signal: stop.signal,
      onResult: result => {
        if (!flags.json) this.emit(flags, result, renderRolloutResult)
        if (flags.wait) process.once('SIGINT', onSignal)
      },
      ...(flags.json ? {} : {onProgress: p => progress.update(p)}),
    }).finally(() => process.off('SIGINT', onSignal))
    if (flags.json) process.stdout.write(jsonDocument(deployJson(outcome, {singleDevice: flags.device?.length === 1})))
    else {
      progress.end()
      const summary = renderWaitSummary(outcome, ctx)
      if (summary) process.stdout.write(`${summary}\n`)
    }
    if (outcome.failure) throw outcome.failure
  }
}
