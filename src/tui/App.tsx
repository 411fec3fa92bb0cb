import {useApp, useInput} from 'ink'
import type {FleetEventSource} from './event-source.ts'
import {Frame} from './Frame.tsx'
import {buildScreen, type Size} from './model/screen.ts'
import {type FleetApi, useTui} from './use-tui.ts'
import {useTerminalSize} from './use-terminal-size.ts'

export interface AppProps {
  api: FleetApi
  events: FleetEventSource
  /** A fixed size instead of the terminal's. */
  size?: Size
  now?: () => number
  pollMs?: number
  debounceMs?: number
  /** Called when the user quits, before Ink unmounts. */
  onQuit?: () => void
}

/** The dashboard: one state machine, one frame. */
export function App(props: AppProps) {
  const {exit} = useApp()
  const [state, dispatch] = useTui({
    api: props.api,
    events: props.events,
    onQuit: () => {
      props.onQuit?.()
      exit()
    },
    ...(props.now ? {now: props.now} : {}),
    ...(props.pollMs ? {pollMs: props.pollMs} : {}),
    ...(props.debounceMs !== undefined ? {debounceMs: props.debounceMs} : {}),
  })
  useInput((input, key) => dispatch({type: 'key', key: {...key, input}}))
  const size = useTerminalSize(props.size)
  return <Frame lines={buildScreen(state, size).lines} />
}
