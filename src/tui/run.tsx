import {render} from 'ink'
import {subscribeEvents} from '../client/events.ts'
import type {OperatorClient} from '../client/operator-client.ts'
import {controlRollout, createRollout, getRollout, listRollouts} from '../client/rollouts.ts'
import type {FleetApi} from './use-tui.ts'
import {App} from './App.tsx'
import {streamEventSource} from './event-source.ts'
import {assertTerminal} from './terminal.ts'

export interface RunTuiOptions {
  client: OperatorClient
  stdin?: NodeJS.ReadStream
  stdout?: NodeJS.WriteStream
}

/** Runs the dashboard until the user quits. Refuses (exit 2) without a terminal on stdin and stdout. */
export async function runTui(options: RunTuiOptions): Promise<void> {
  const stdin = options.stdin ?? process.stdin
  const stdout = options.stdout ?? process.stdout
  assertTerminal(stdin, stdout)
  const events = streamEventSource(subscribeEvents, options.client.connection)
  // The terminal was checked before we got here: stay interactive even where a CI variable is set.
  const client = options.client
  // The form and the Rollouts pane use the same rollout calls as margo deploy and margo rollout.
  const api: FleetApi = Object.assign(Object.create(client) as OperatorClient, {
    listRollouts: (filter: {appId?: string} = {}) => listRollouts(client, filter),
    getRollout: (name: string) => getRollout(client, name),
    controlRollout: (name: string, action: 'pause' | 'resume' | 'abort') => controlRollout(client, name, action),
    deployRollout: (request: Parameters<typeof createRollout>[1]) => createRollout(client, request),
  })
  const instance = render(<App api={api} events={events} />, {stdin, stdout, alternateScreen: true, exitOnCtrlC: true, interactive: true})
  await instance.waitUntilExit()
}
