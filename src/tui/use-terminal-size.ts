import {useStdout} from 'ink'
import {useEffect, useState} from 'react'
import type {Size} from './model/screen.ts'

/** The terminal's size, following resizes; `fixed` wins (tests render at exactly 80×24). */
export function useTerminalSize(fixed?: Size): Size {
  const stdout = useStdout().stdout as NodeJS.WriteStream
  const read = (): Size => fixed ?? {columns: stdout.columns || 80, rows: stdout.rows || 24}
  const [size, setSize] = useState(read)
  // biome-ignore lint/correctness/useExhaustiveDependencies: a fixed size is compared by value, and read() is rebuilt on every render
  useEffect(() => {
    if (fixed) return
    const onResize = () => setSize(read())
    stdout.on('resize', onResize)
    return () => { stdout.off('resize', onResize) }
  }, [stdout, fixed?.columns, fixed?.rows])
  return fixed ?? size
}
