/**
 * A rollout's values for one device: the rollout's values, then each `--set-for` entry whose
 * selector matches the device's labels (later entries win), then device templates resolved.
 */
import {matchesSelector, parseSelector} from '../../operator-contract/selector.ts'
import type {SetForRequest} from '../../operator-contract/strategy.ts'
import {renderTemplates, type TemplateDevice, type TemplateProblem} from './templates.ts'

export type SetFor = SetForRequest

export function valuesForDevice(values: Readonly<Record<string, unknown>>, setFor: readonly SetFor[], device: TemplateDevice): {ok: true, values: Record<string, unknown>} | {ok: false, problems: TemplateProblem[]} {
  let merged: Record<string, unknown> = {...values}
  for (const entry of setFor) {
    const sel = parseSelector(entry.selector)
    if (sel.ok && matchesSelector(sel.selector, device.labels)) merged = {...merged, ...entry.values}
  }
  return renderTemplates(merged, device)
}
