import {describe, expect, test} from 'bun:test'
import {unifiedDiff} from '../../../src/server/rollouts/diff.ts'

const lines = (n: number, change?: Record<number, string>) => Array.from({length: n}, (_, i) => change?.[i + 1] ?? `line ${i + 1}`).join('\n') + '\n'

describe('unifiedDiff', () => {
  test('equal texts give the empty string', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n')).toBe('')
  })

  test('one changed line with three lines of context, as diff -u prints it', () => {
    expect(unifiedDiff(lines(10), lines(10, {5: 'five'}), {from: 'a', to: 'b'})).toBe(
      '--- a\n+++ b\n@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+five\n line 6\n line 7\n line 8\n',
    )
  })

  test('changes far apart make two hunks; close ones share one', () => {
    const far = unifiedDiff(lines(30), lines(30, {3: 'three', 25: 'twenty-five'}))
    expect(far.match(/^@@ /gm)).toHaveLength(2)
    expect(far).toContain('@@ -1,6 +1,6 @@')
    expect(far).toContain('@@ -22,7 +22,7 @@')
    const near = unifiedDiff(lines(30), lines(30, {3: 'three', 9: 'nine'}))
    expect(near.match(/^@@ /gm)).toHaveLength(1)
  })

  test('insertions and deletions count lines on each side', () => {
    expect(unifiedDiff('a\nb\nc\n', 'a\nb\nx\ny\nc\n')).toBe('--- current\n+++ new\n@@ -1,3 +1,5 @@\n a\n b\n+x\n+y\n c\n')
    expect(unifiedDiff('a\nb\nc\n', 'a\nc\n')).toBe('--- current\n+++ new\n@@ -1,3 +1,2 @@\n a\n-b\n c\n')
  })

  test('from and to nothing', () => {
    expect(unifiedDiff('', 'a\nb\n')).toBe('--- current\n+++ new\n@@ -0,0 +1,2 @@\n+a\n+b\n')
    expect(unifiedDiff('a\n', '')).toBe('--- current\n+++ new\n@@ -1 +0,0 @@\n-a\n')
  })
})
