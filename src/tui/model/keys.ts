/** A key press as the models see it: Ink's input and key flags, without depending on Ink. */
export interface KeyPress {
  input: string
  upArrow?: boolean
  downArrow?: boolean
  leftArrow?: boolean
  rightArrow?: boolean
  pageUp?: boolean
  pageDown?: boolean
  home?: boolean
  end?: boolean
  return?: boolean
  escape?: boolean
  backspace?: boolean
  delete?: boolean
  tab?: boolean
  shift?: boolean
  ctrl?: boolean
  meta?: boolean
}

export const isUp = (k: KeyPress) => k.upArrow === true || (k.input === 'k' && !k.ctrl)
export const isDown = (k: KeyPress) => k.downArrow === true || (k.input === 'j' && !k.ctrl)
export const isBack = (k: KeyPress) => k.escape === true || k.backspace === true || k.delete === true
export const isErase = (k: KeyPress) => k.backspace === true || k.delete === true

/** A character to type into a text field: printable, no control or meta modifier. */
export function typed(k: KeyPress): string | undefined {
  if (k.ctrl || k.meta || k.return || k.escape || k.tab || k.backspace || k.delete) return undefined
  if (k.upArrow || k.downArrow || k.leftArrow || k.rightArrow || k.pageUp || k.pageDown || k.home || k.end) return undefined
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this drops from typed input
  const clean = k.input.replace(/[\u0000-\u001f\u007f]/g, '')
  return clean === '' ? undefined : clean
}
