/**
 * Asks for a secret on the terminal without echoing it. Only for a terminal: a command run from
 * a script or a pipe must take its secret from a file or the environment instead, never hang.
 */
export async function askHidden(question: string): Promise<string> {
  const stdin = process.stdin
  if (!stdin.isTTY) throw new Error('standard input is not a terminal')
  process.stderr.write(question)
  stdin.setRawMode(true)
  stdin.resume()
  try {
    return await new Promise<string>((resolve, reject) => {
      let answer = ''
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') { stdin.off('data', onData); resolve(answer); return }
          if (ch === '\u0003') { stdin.off('data', onData); reject(new Error('interrupted')); return }
          if (ch === '\u007f' || ch === '\b') answer = [...answer].slice(0, -1).join('')
          else answer += ch
        }
      }
      stdin.on('data', onData)
    })
  } finally {
    stdin.setRawMode(false)
    stdin.pause()
    process.stderr.write('\n')
  }
}
