import {Elysia} from 'elysia'
import {OPERATOR_PREFIX, auditRequest, idVisibility, operatorHandler, outsideScope, principalOf, requireVisibleDevice, optionalObject, optionalString, queryString, readJson, type OperatorApiContext} from './context.ts'
import {badRequest, invalid} from './errors.ts'
import {resolveId} from './ids.ts'
import {getRolloutByName} from '../store/rollouts-repo.ts'
import {deploymentJson, deviceJson} from './views.ts'
import {labelMapProblems, mergeLabels, sortLabels} from '../../operator-contract/labels.ts'
import type {RolloutService} from '../rollouts/rollout-service.ts'
import type {WindowService} from '../rollouts/windows-service.ts'
import type {SetForRequest, StrategyRequest} from '../../operator-contract/strategy.ts'
import {getRollout} from '../store/rollouts-repo.ts'
import {rolloutScopeProblem, scopeKeys, type RolloutTargets} from '../access/scope.ts'
import {OperatorError} from './errors.ts'
import type {RolloutDetail, RolloutHistory, RolloutRemoval, RolloutResult, RolloutSummary} from '../../operator-contract/views.ts'

/** Who a change is recorded for: the token's name (the first token is `bootstrap`). */
const actorOf = (request: Request) => principalOf(request)?.name ?? 'operator'

function labelsOf(body: Record<string, unknown>, allowNull: boolean): Record<string, string | null> {
  const labels = optionalObject(body.labels, 'labels')
  if (!labels) throw badRequest('the body must be {"labels": {"key": "value"}}')
  const problems = labelMapProblems(labels, {allowNull})
  if (problems.length > 0) throw invalid('invalid_labels', `${problems.length} label(s) are invalid — keys are [prefix/]name, values at most 63 characters of letters, digits, '-', '_' and '.'`, problems)
  return labels as Record<string, string | null>
}

function stringList(v: unknown, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v) || v.some(x => typeof x !== 'string' || x === '')) throw badRequest(`${field} must be a list of client ids`)
  return v as string[]
}

/** `selector` may be the empty string (every device), unlike other string fields. */
function selectorOf(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw badRequest('selector must be a string, e.g. "site=plant-7,line in (1,2)"; "" selects every device')
  return v
}

function booleanOf(v: unknown, field: string): boolean {
  if (v === undefined || v === null) return false
  if (typeof v !== 'boolean') throw badRequest(`${field} must be true or false`)
  return v
}

/** The strategy's fields are strings (booleans for `manual`); their content is checked by the service, all at once. */
function strategyOf(v: unknown): StrategyRequest {
  if (typeof v !== 'object' || Array.isArray(v) || v === null) throw badRequest('strategy must be an object, e.g. {"waves": ["1", "10%"]}')
  const s = v as Record<string, unknown>
  if (s.waves !== undefined && (!Array.isArray(s.waves) || s.waves.some(w => typeof w !== 'string'))) throw badRequest('strategy.waves must be a list of strings: counts (1), percentages (10%) or label selectors')
  for (const k of ['maxUnavailable', 'failureThreshold', 'waveTimeout', 'offline', 'pauseBetween', 'onFailure']) {
    if (s[k] !== undefined && typeof s[k] !== 'string') throw badRequest(`strategy.${k} must be a string`)
  }
  if (s.manual !== undefined && typeof s.manual !== 'boolean') throw badRequest('strategy.manual must be true or false')
  return s as StrategyRequest
}

function setForOf(v: unknown): SetForRequest[] {
  if (!Array.isArray(v) || v.some(e => typeof e !== 'object' || e === null || typeof e.selector !== 'string' || typeof e.values !== 'object' || e.values === null || Array.isArray(e.values))) {
    throw badRequest('setFor must be a list of {"selector": "site=a", "values": {"key": "value"}}')
  }
  return v as SetForRequest[]
}

/** Values in a PATCH: null removes a value, so the object may hold nulls. */
function patchValues(v: unknown): Record<string, unknown> | undefined {
  return optionalObject(v, 'values')
}

/** Device labels and fleet-wide rollouts. */
export function fleetRoutes(ctx: OperatorApiContext, rollouts: RolloutService, windows: WindowService) {
  const handle = operatorHandler(ctx)
  const device = (request: Request, clientId: string) => requireVisibleDevice(ctx, request, clientId)
  // A rollout is named by its name, its id, or a unique prefix of its id; the name wins.
  const rolloutId = (request: Request, typed: string) => (getRolloutByName(ctx.store, typed) ? typed : resolveId(ctx.store, 'rollout', typed, idVisibility(ctx, request)))
  const labelsOfDevice = (id: string) => ctx.store.getClient(id)?.labels ?? null
  /** A scoped token may only create or change rollouts that stay inside its scope. */
  const checkScope = (request: Request, target: RolloutTargets) => {
    const p = principalOf(request)
    const problem = p ? rolloutScopeProblem(p.scope, p.scopeText ?? '', target, labelsOfDevice) : null
    if (problem) throw outsideScope(problem)
  }
  /** The stored rollout, when the caller's scope holds it; a rollout outside the scope answers 404 like a missing one. */
  const visibleRollout = (request: Request, id: string) => {
    const r = getRollout(ctx.store, id)
    const p = principalOf(request)
    if (r && p?.scope && rolloutScopeProblem(p.scope, p.scopeText ?? '', r, labelsOfDevice)) {
      throw new OperatorError(404, 'rollout_not_found', `rollout ${id} not found — margo deploy prints the rollout id; GET /operator/v1/rollouts lists them`)
    }
    return r
  }
  const setLabels = (request: Request, clientId: string, before: Record<string, string>, labels: Record<string, string>) => {
    // Labels the scope reads would move a device out of the token's reach (or into another rollout's).
    const locked = scopeKeys(principalOf(request)?.scope ?? null).filter(k => before[k] !== labels[k])
    if (locked.length > 0) {
      throw outsideScope({message: `label(s) ${locked.join(', ')} define this token's scope ${JSON.stringify(principalOf(request)!.scopeText)}; a scoped token cannot change them`, details: locked})
    }
    ctx.store.transaction(() => {
      ctx.store.setLabels(clientId, sortLabels(labels))
      auditRequest(ctx, request, {target: `device:${clientId}`})
    })
    ctx.log.info('device.labelled', {clientId, labels: Object.keys(labels)})
    ctx.events.emit({type: 'device.updated', clientId})
    return deviceJson(device(request, clientId))
  }
  const control = (request: Request, typed: string, action: 'pause' | 'resume' | 'abort') => {
    const id = rolloutId(request, typed)
    visibleRollout(request, id)
    const progress = rollouts.control(id, action, actorOf(request))
    ctx.log.info(`rollout.${action}`, {rolloutId: id, phase: progress.phase, wave: progress.wave})
    return progress
  }
  return new Elysia({name: 'margo-operator-fleet', prefix: OPERATOR_PREFIX})
    .put('/devices/:clientId/labels', ({request, params}) => handle(request, async () => {
      const current = device(request, params.clientId)
      const labels = labelsOf(await readJson(request, ctx.maxBodyBytes), false) as Record<string, string>
      return setLabels(request, current.clientId, current.labels, labels)
    }), {parse: 'none'})
    .patch('/devices/:clientId/labels', ({request, params}) => handle(request, async () => {
      const current = device(request, params.clientId)
      const patch = labelsOf(await readJson(request, ctx.maxBodyBytes), true)
      return setLabels(request, current.clientId, current.labels, mergeLabels(current.labels, patch))
    }), {parse: 'none'})
    .get('/rollouts', ({request, query}) => handle(request, (): {rollouts: RolloutSummary[]} => ({
      rollouts: rollouts.list({appId: queryString(query.appId)}).filter(r => {
        const p = principalOf(request)
        return !p?.scope || !rolloutScopeProblem(p.scope, p.scopeText ?? '', r, labelsOfDevice)
      }),
    })))
    .post('/rollouts', ({request}) => handle(request, async () => {
      const body = await readJson(request, ctx.maxBodyBytes)
      const appId = optionalString(body.appId, 'appId')
      if (!appId) throw badRequest('appId is required')
      const dryRun = booleanOf(body.dryRun, 'dryRun')
      const devices = stringList(body.devices, 'devices')?.map(id => resolveId(ctx.store, 'device', id, idVisibility(ctx, request)))
      const selector = selectorOf(body.selector)
      checkScope(request, {selector: selector ?? null, devices: devices ?? []})
      // Deploying under an existing name updates that rollout: it must be one the caller may see.
      const existing = getRolloutByName(ctx.store, optionalString(body.name, 'name') ?? appId)
      if (existing) visibleRollout(request, existing.rolloutId)
      const result: RolloutResult = rollouts.create({
        ...(optionalString(body.name, 'name') ? {name: optionalString(body.name, 'name')!} : {}),
        appId,
        version: optionalString(body.version, 'version'),
        devices,
        selector,
        profile: optionalString(body.profile, 'profile'),
        values: optionalObject(body.values, 'values'),
        ...(body.strategy !== undefined && body.strategy !== null ? {strategy: strategyOf(body.strategy)} : {}),
        ...(body.setFor !== undefined && body.setFor !== null ? {setFor: setForOf(body.setFor)} : {}),
      }, {dryRun, actor: actorOf(request)})
      if (!dryRun) ctx.log.info(`rollout.${result.change}`, {rolloutId: result.rolloutId, name: result.name, revision: result.revision, appId, targets: result.targets.length, skipped: result.skipped.length})
      return Response.json(result, {status: dryRun || result.change !== 'created' ? 200 : 201})
    }), {parse: 'none'})
    .get('/rollouts/:rolloutId', ({request, params}) => handle(request, (): RolloutDetail => {
      const id = rolloutId(request, params.rolloutId)
      visibleRollout(request, id)
      return rollouts.detail(id, d => deploymentJson(ctx.store, d))
    }))
    .patch('/rollouts/:rolloutId', ({request, params}) => handle(request, async () => {
      const id = rolloutId(request, params.rolloutId)
      const stored = visibleRollout(request, id)
      const body = await readJson(request, ctx.maxBodyBytes)
      if (stored && body.selector !== undefined) checkScope(request, {selector: selectorOf(body.selector) ?? null, devices: stored.devices})
      if (body.version !== null && body.version !== undefined && (typeof body.version !== 'string' || body.version === '')) {
        throw badRequest('version must be a version string, or null to follow the latest')
      }
      const dryRun = booleanOf(body.dryRun, 'dryRun')
      const result: RolloutResult = rollouts.update(id, {
        ...(body.version !== undefined ? {version: body.version as string | null} : {}),
        ...(body.values !== undefined ? {values: patchValues(body.values)} : {}),
        ...(body.selector !== undefined ? {selector: selectorOf(body.selector)} : {}),
      }, {dryRun, actor: actorOf(request)})
      if (!dryRun) ctx.log.info(`rollout.${result.change}`, {rolloutId: result.rolloutId, name: result.name, revision: result.revision, targets: result.targets.length, removed: result.removed.length})
      return result
    }), {parse: 'none'})
    .get('/rollouts/:rolloutId/revisions', ({request, params}) => handle(request, (): RolloutHistory => {
      const id = rolloutId(request, params.rolloutId)
      visibleRollout(request, id)
      return rollouts.history(id)
    }))
    .post('/rollouts/:rolloutId/undo', ({request, params}) => handle(request, async () => {
      const id = rolloutId(request, params.rolloutId)
      visibleRollout(request, id)
      const body = await readJson(request, ctx.maxBodyBytes)
      const to = body.toRevision
      if (to !== undefined && to !== null && (typeof to !== 'number' || !Number.isInteger(to) || to < 1)) throw badRequest('toRevision must be a revision number (see: margo rollout history)')
      const dryRun = booleanOf(body.dryRun, 'dryRun')
      const result: RolloutResult = rollouts.undo(id, {dryRun, actor: actorOf(request), ...(typeof to === 'number' ? {toRevision: to} : {})})
      if (!dryRun) ctx.log.info('rollout.undone', {rolloutId: result.rolloutId, name: result.name, revision: result.revision, change: result.change})
      return result
    }), {parse: 'none'})
    .post('/rollouts/:rolloutId/pause', ({request, params}) => handle(request, () => control(request, params.rolloutId, 'pause')), {parse: 'none'})
    .post('/rollouts/:rolloutId/resume', ({request, params}) => handle(request, () => control(request, params.rolloutId, 'resume')), {parse: 'none'})
    .post('/rollouts/:rolloutId/abort', ({request, params}) => handle(request, () => control(request, params.rolloutId, 'abort')), {parse: 'none'})
    .get('/windows', ({request}) => handle(request, () => ({windows: windows.list()})))
    .post('/windows', ({request}) => handle(request, async () => windows.add(await readJson(request, ctx.maxBodyBytes) as never), 201), {parse: 'none'})
    .delete('/windows/:name', ({request, params}) => handle(request, () => windows.remove(params.name)))
    .delete('/rollouts/:rolloutId', ({request, params, query}) => handle(request, () => {
      const id = rolloutId(request, params.rolloutId)
      visibleRollout(request, id)
      const forget = queryString(query.forget) === 'true'
      const result: RolloutRemoval = rollouts.remove(id, {forget})
      ctx.log.info('rollout.deleted', {rolloutId: result.rolloutId, name: result.name, removed: result.removed.length, forgotten: result.forgotten.length})
      return result
    }), {parse: 'none'})
}

const ref = (name: string) => ({$ref: `#/components/schemas/${name}`})
const json = (schema: object, description = 'OK') => ({description, content: {'application/json': {schema}}})
const body = (schema: object) => ({required: true, content: {'application/json': {schema}}})
const errors = Object.fromEntries(['400', '401', '404', '409', '422'].map(s => [s, {$ref: '#/components/responses/Error'}]))
const idParam = (name: string) => ({name, in: 'path', required: true, schema: {type: 'string'}})

const target = {
  type: 'object', required: ['clientId', 'deploymentId', 'action', 'digest'],
  properties: {
    clientId: {type: 'string'}, deploymentId: {type: ['string', 'null'], description: 'null for a deployment a dry run would create'},
    action: {enum: ['create', 'update', 'unchanged']}, appVersion: {type: 'string'}, profile: {type: 'object'}, digest: {type: 'string'},
    yaml: {type: 'string', description: 'dry run: the ApplicationDeployment YAML the device would get'},
    diff: {type: 'string', description: 'dry run, updates: unified diff from the current YAML'},
  },
}
const skipped = {type: 'array', items: {type: 'object', required: ['clientId', 'reason'], properties: {clientId: {type: 'string'}, reason: {type: 'string'}}}}
const removed = {type: 'array', items: {type: 'object', properties: {clientId: {type: 'string'}, deploymentId: {type: 'string'}}}}
const fieldsChanged = {type: 'array', items: {enum: ['version', 'profile', 'values', 'target']}}
const rolloutResult = {
  type: 'object', required: ['rolloutId', 'name', 'revision', 'change', 'dryRun', 'appId', 'targets', 'skipped'],
  properties: {
    rolloutId: {type: ['string', 'null'], description: 'null for a dry run of a rollout that does not exist yet'},
    name: {type: 'string'}, revision: {type: 'integer', description: 'the revision this is (dry run: would be)'},
    change: {enum: ['created', 'updated', 'unchanged'], description: 'unchanged: equal to the current revision; no revision added'},
    changed: fieldsChanged, dryRun: {type: 'boolean'}, appId: {type: 'string'}, version: {type: ['string', 'null']}, appVersion: {type: 'string'},
    selector: {type: ['string', 'null']}, devices: {type: 'array', items: {type: 'string'}}, targets: {type: 'array', items: target}, removed, skipped,
  },
}
const rollout = {
  type: 'object',
  properties: {
    rolloutId: {type: 'string'}, name: {type: 'string', description: 'a DNS label, unique among live rollouts'}, revision: {type: 'integer'}, appId: {type: 'string'}, version: {type: ['string', 'null'], description: 'null: follows the latest version'},
    appVersion: {type: ['string', 'null']}, selector: {type: ['string', 'null']}, devices: {type: 'array', items: {type: 'string'}},
    profile: {type: ['string', 'null']}, values: {type: 'object'}, createdAt: {type: 'string'}, updatedAt: {type: 'string'},
    targets: {type: 'array', items: ref('Deployment')}, skipped,
  },
}
const removal = {type: 'object', properties: {rolloutId: {type: 'string'}, name: {type: 'string'}, removed, forgotten: {...removed, description: 'forget: removals recorded as removed-unconfirmed'}}}
const history = {
  type: 'object',
  properties: {
    rolloutId: {type: 'string'}, name: {type: 'string'}, appId: {type: 'string'}, revision: {type: 'integer', description: 'the current revision'},
    history: {type: 'array', items: {
      type: 'object',
      properties: {
        revision: {type: 'integer'}, createdAt: {type: 'string'}, actor: {type: 'string'}, cause: {type: ['string', 'null']},
        version: {type: ['string', 'null']}, profile: {type: ['string', 'null']}, valuesDigest: {type: 'string'},
        values: {type: 'object', description: 'secret-looking names (password, token, key, …) redacted'},
        target: {type: 'object', description: '{selector} or {devices}'}, changed: fieldsChanged,
      },
    }},
  },
}
const rolloutParam = {name: 'rollout', in: 'path', required: true, schema: {type: 'string'}, description: 'rollout name (or id)'}
const labels = {type: 'object', required: ['labels'], properties: {labels: {type: 'object', additionalProperties: {type: ['string', 'null']}}}}

/** OpenAPI path objects of this plugin, to merge into the operator API document. */
export const FLEET_OPENAPI_PATHS = {
  '/devices/{clientId}/labels': {
    put: {summary: "Replace a device's labels", parameters: [idParam('clientId')], requestBody: body(labels), responses: {'200': json(ref('Device')), ...errors}},
    patch: {summary: "Merge into a device's labels (null removes a label)", parameters: [idParam('clientId')], requestBody: body(labels), responses: {'200': json(ref('Device')), ...errors}},
  },
  '/rollouts': {
    get: {summary: 'List live rollouts', parameters: [{name: 'appId', in: 'query', schema: {type: 'string'}}], responses: {'200': json({type: 'object', properties: {rollouts: {type: 'array', items: rollout}}}), ...errors}},
    post: {
      summary: 'Create rollout `name` (default: the app id) or update it to this request as a new revision (dryRun: preview only); 409 when another rollout of the app targets one of the devices',
      requestBody: body({
        type: 'object', required: ['appId'],
        properties: {
          name: {type: 'string', description: 'DNS label; default: the app id'},
          appId: {type: 'string'}, version: {type: 'string', description: 'absent: follow the latest version'},
          devices: {type: 'array', items: {type: 'string'}}, selector: {type: 'string', description: 'label selector; "" selects every device. Updating: absent keeps the target'},
          profile: {type: 'string'}, values: {type: 'object'}, dryRun: {type: 'boolean'},
        },
      }),
      responses: {'201': json(rolloutResult, 'Created'), '200': json(rolloutResult, 'Updated, unchanged, or a dry run'), ...errors},
    },
  },
  '/rollouts/{rollout}': {
    get: {summary: 'One rollout with its deployments and the devices it skips, with reasons', parameters: [rolloutParam], responses: {'200': json(rollout), ...errors}},
    patch: {
      summary: 'Change version, values or selector as a new revision; deployments are updated in place',
      parameters: [rolloutParam],
      requestBody: body({type: 'object', properties: {version: {type: ['string', 'null']}, values: {type: 'object'}, selector: {type: 'string'}, dryRun: {type: 'boolean'}}}),
      responses: {'200': json(rolloutResult), ...errors},
    },
    delete: {
      summary: 'Delete a rollout; its deployments go removing → removed, nothing else changes. forget=true: also record unconfirmed removals as removed-unconfirmed (works on a deleted rollout too)',
      parameters: [rolloutParam, {name: 'forget', in: 'query', schema: {type: 'boolean'}}],
      responses: {'200': json(removal), ...errors},
    },
  },
  '/rollouts/{rollout}/revisions': {
    get: {summary: "A rollout's revisions, oldest first: time, actor, version, values (redacted) and digest, target", parameters: [rolloutParam], responses: {'200': json(history), ...errors}},
  },
  '/rollouts/{rollout}/pause': {post: {summary: 'Stop letting devices of a staged rollout advance (devices keep what they have); see progress in GET /rollouts/{rollout}', parameters: [rolloutParam], responses: {'200': json({type: 'object'}), ...errors}}},
  '/rollouts/{rollout}/resume': {post: {summary: 'Resume a paused staged rollout (failures so far are accepted) or start the next wave of a --manual one', parameters: [rolloutParam], responses: {'200': json({type: 'object'}), ...errors}}},
  '/rollouts/{rollout}/abort': {post: {summary: 'End a staged rollout: no device advances any more; devices keep what they have', parameters: [rolloutParam], responses: {'200': json({type: 'object'}), ...errors}}},
  '/windows': {
    get: {summary: 'Update windows, whether each is open now and when it next opens', responses: {'200': json({type: 'object'}), ...errors}},
    post: {
      summary: 'Add an update window: devices the selector matches are only advanced by rollouts while one of their windows is open',
      requestBody: body({type: 'object', required: ['name', 'selector', 'schedule', 'duration'], properties: {name: {type: 'string'}, selector: {type: 'string'}, schedule: {type: 'string', description: 'five-field cron'}, duration: {type: 'string'}, timeZone: {type: 'string', description: 'IANA name; default UTC'}}}),
      responses: {'201': json({type: 'object'}, 'Created'), ...errors},
    },
  },
  '/windows/{name}': {delete: {summary: 'Remove an update window', parameters: [idParam('name')], responses: {'200': json({type: 'object'}), ...errors}}},
  '/rollouts/{rollout}/undo': {
    post: {
      summary: 'A new revision equal to toRevision (default: the previous one), rolled out like any change; values the version refuses are reported (422) before anything changes',
      parameters: [rolloutParam],
      requestBody: body({type: 'object', properties: {toRevision: {type: 'integer'}, dryRun: {type: 'boolean'}}}),
      responses: {'200': json(rolloutResult), ...errors},
    },
  },
} as const
