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
