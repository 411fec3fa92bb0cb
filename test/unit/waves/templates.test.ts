import {describe, expect, test} from 'bun:test'
import {checkTemplates, renderTemplates} from '../../../src/server/rollouts/templates.ts'
import {valuesForDevice} from '../../../src/server/rollouts/device-values.ts'

const device = {clientId: 'c-1', labels: {site: 'berlin', line: '2'}, capabilities: {properties: {cpu: {cores: 4}, id: 'n1'}}}

describe('device templates', () => {
  test('id, labels and capabilities resolve per device; other ${…} forms are left alone', () => {
    const r = renderTemplates({greeting: 'hello ${device.labels.site} from ${device.id}', cores: '${device.capabilities.properties.cpu.cores}', secret: '${secret:db}'}, device)
    expect(r).toEqual({ok: true, values: {greeting: 'hello berlin from c-1', cores: '4', secret: '${secret:db}'}})
  })

  test('a template that does not resolve is reported with its value', () => {
    const r = renderTemplates({a: '${device.labels.rack}', b: '${device.capabilities.gpu}'}, device)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.problems.map(p => p.path)).toEqual(['a', 'b'])
    expect(renderTemplates({a: '${device.labels.site}'}, {...device, capabilities: null}).ok).toBe(true)
  })

  test('syntax is checked without a device', () => {
    expect(checkTemplates({a: '${device.nme}', b: '${device.labels.site', c: 'ok ${device.id}'}).map(p => p.path)).toEqual(['values.a', 'values.b'])
  })

  test('--set-for: matching selectors in order, later wins, then templates', () => {
    const r = valuesForDevice({greeting: 'hi', port: '80'}, [
      {selector: 'site=berlin', values: {greeting: 'hallo ${device.labels.line}'}},
      {selector: 'site=paris', values: {greeting: 'bonjour'}},
      {selector: 'line=2', values: {port: '8080'}},
    ], device)
    expect(r).toEqual({ok: true, values: {greeting: 'hallo 2', port: '8080'}})
  })
})
