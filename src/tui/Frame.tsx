import {Box, Text} from 'ink'
import type {Line, Segment, Tone} from './model/lines.ts'

const COLOR: Partial<Record<Tone, string>> = {green: 'green', yellow: 'yellow', red: 'red', cyan: 'cyan'}

function SegmentText({segment}: {segment: Segment}) {
  const tone = segment.tone
  const color = tone ? COLOR[tone] : undefined
  return (
    <Text {...(color ? {color} : {})} dimColor={tone === 'dim'} bold={tone === 'bold'} inverse={segment.inverse === true}>
      {segment.text}
    </Text>
  )
}

/** Draws lines the view models have already cut to the screen width; Ink's truncate is only a guard. */
export function Frame({lines}: {lines: Line[]}) {
  return (
    <Box flexDirection="column">
      {lines.map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a line is identified by its row on the screen
        <Text key={i} wrap="truncate-end">
          {line.every(s => s.text === '') ? ' ' : line.map((segment, j) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a segment is identified by its position in the line
            <SegmentText key={j} segment={segment} />
          ))}
        </Text>
      ))}
    </Box>
  )
}
