/** The undeploy question: what goes (the deployment and its app) and from where (the device). */
import {displayWidth, shortId} from './format.ts'
import {type Line, lineText, squeeze, text} from './lines.ts'

export interface UndeployTarget {
  deploymentId: string
  appId: string
  clientId: string
}

function prompt(t: UndeployTarget, label: string): (Line[number] & {flex?: boolean})[] {
  return [
    text('Undeploy ', 'yellow'),
    {...text(t.appId, 'yellow'), flex: true},
    text(` from ${shortId(t.clientId)} (${label} ${shortId(t.deploymentId)})? (y/n)`, 'yellow'),
  ]
}

/** The question in full, as a wide terminal shows it. */
export function undeployQuestion(t: UndeployTarget): string {
  return lineText(prompt(t, 'deployment'))
}

/**
 * The question fitted to `width`: a shorter label first, then the app id is cut; the device,
 * the deployment and the answer keys always stay readable.
 */
export function undeployPrompt(t: UndeployTarget, width: number): Line {
  for (const label of ['deployment', 'id']) {
    const line = prompt(t, label)
    if (displayWidth(lineText(line)) <= width) return line
  }
  return squeeze(prompt(t, 'id'), width)
}
