/**
 * OpenAPI 3.1 description of the operator API, served at /operator/v1/openapi.json.
 * docs/operator-api.md is the prose version; keep the two in step.
 */
const ref = (name: string) => ({$ref: `#/components/schemas/${name}`})
const json = (schema: object, description = 'OK') => ({description, content: {'application/json': {schema}}})
const errors = {
  '400': {$ref: '#/components/responses/Error'},
  '401': {$ref: '#/components/responses/Error'},
  '404': {$ref: '#/components/responses/Error'},
  '422': {$ref: '#/components/responses/Error'},
}
const idParam = (name: string) => ({name, in: 'path', required: true, schema: {type: 'string'}})

export const OPERATOR_OPENAPI = {
  openapi: '3.1.0',
  info: {title: 'margo operator API', version: '1', description: 'Manage devices, the application catalog and deployments of a margo Workload Fleet Manager. Separate from the Margo device interface.'},
  servers: [{url: '/operator/v1'}],
  security: [{bearer: []}],
  paths: {
    '/health': {get: {summary: 'Server version and settings', responses: {'200': json({type: 'object'})}}},
    '/devices': {get: {summary: 'List devices', responses: {'200': json({type: 'object', properties: {devices: {type: 'array', items: ref('Device')}}}), ...errors}}},
    '/devices/{clientId}': {get: {summary: 'One device with its deployments', parameters: [idParam('clientId')], responses: {'200': json(ref('Device')), ...errors}}},
    '/devices/{clientId}/approve': {post: {summary: 'Approve a pending device', parameters: [idParam('clientId')], responses: {'200': json(ref('Device')), ...errors}}},
    '/devices/{clientId}/revoke': {post: {summary: 'Revoke a device (its requests then get 403)', parameters: [idParam('clientId')], responses: {'200': json(ref('Device')), ...errors}}},
    '/devices/preregister': {post: {summary: 'Pre-register a device certificate', requestBody: {content: {'application/json': {schema: {type: 'object', required: ['certificate'], properties: {certificate: {type: 'string'}}}}}}, responses: {'201': json({type: 'object', properties: {fingerprint: {type: 'string'}}}), ...errors}}},
    '/apps': {
      get: {summary: 'List catalog applications', responses: {'200': json({type: 'object', properties: {apps: {type: 'array', items: ref('App')}}}), ...errors}},
      post: {summary: 'Publish an ApplicationDescription or package', requestBody: {content: {'application/yaml': {schema: {type: 'string'}}, 'application/gzip': {schema: {type: 'string', format: 'binary'}}}}, responses: {'201': json(ref('App')), '200': json(ref('App'), 'Already published with the same content'), '409': {$ref: '#/components/responses/Error'}, ...errors}},
    },
    '/apps/{appId}': {get: {summary: 'One application', parameters: [idParam('appId'), {name: 'version', in: 'query', schema: {type: 'string'}}], responses: {'200': json(ref('App')), ...errors}}},
    '/deployments': {
      get: {summary: 'List deployments', parameters: [{name: 'clientId', in: 'query', schema: {type: 'string'}}, {name: 'appId', in: 'query', schema: {type: 'string'}}], responses: {'200': json({type: 'object', properties: {deployments: {type: 'array', items: ref('Deployment')}}}), ...errors}},
      post: {summary: 'Deploy an application to a device', requestBody: {content: {'application/json': {schema: {type: 'object', required: ['appId', 'clientId'], properties: {appId: {type: 'string'}, version: {type: 'string'}, clientId: {type: 'string'}, profile: {type: 'string'}, values: {type: 'object'}}}}}}, responses: {'201': json(ref('Deployment')), ...errors}},
    },
    '/deployments/{deploymentId}': {
      get: {summary: 'One deployment with its status timeline', parameters: [idParam('deploymentId')], responses: {'200': json(ref('Deployment')), ...errors}},
      patch: {summary: 'Change version or values in place', parameters: [idParam('deploymentId')], requestBody: {content: {'application/json': {schema: {type: 'object', properties: {version: {type: 'string'}, values: {type: 'object'}}}}}}, responses: {'200': json(ref('Deployment')), ...errors}},
      delete: {
        summary: "Remove a deployment from its device. One of a rollout that lists its devices: the device is taken off the list (a new revision); one a selector covers: 409. forget=true: also record an unconfirmed removal as removed-unconfirmed",
        parameters: [idParam('deploymentId'), {name: 'forget', in: 'query', schema: {type: 'boolean'}}],
        responses: {'200': json(ref('Deployment')), '409': {$ref: '#/components/responses/Error'}, ...errors},
      },
    },
    '/status': {get: {summary: 'Fleet overview', responses: {'200': json({type: 'object'}), ...errors}}},
  },
  components: {
    securitySchemes: {bearer: {type: 'http', scheme: 'bearer', description: 'The token in <data-dir>/operator-token'}},
    responses: {Error: json({type: 'object', properties: {error: {type: 'object', required: ['code', 'message'], properties: {code: {type: 'string'}, message: {type: 'string'}, details: {type: 'array', items: {type: 'object', properties: {path: {type: 'string'}, message: {type: 'string'}}}}}}}}, 'Error')},
    schemas: {
      Device: {type: 'object', required: ['clientId', 'enrollment'], properties: {clientId: {type: 'string'}, enrollment: {enum: ['pending', 'active', 'revoked']}, certificate: {type: 'object'}, onboardedAt: {type: 'string', format: 'date-time'}, lastSeenAt: {type: ['string', 'null']}, capabilities: {type: ['object', 'null']}, capabilitiesUpdatedAt: {type: ['string', 'null']}, manifestVersion: {type: 'integer'}, labels: {type: 'object', additionalProperties: {type: 'string'}}}},
      App: {type: 'object', required: ['appId', 'name', 'latestVersion', 'versions'], properties: {appId: {type: 'string'}, name: {type: 'string'}, latestVersion: {type: 'string'}, versions: {type: 'array', items: {type: 'object'}}, description: {type: 'object'}}},
      Deployment: {type: 'object', required: ['deploymentId', 'clientId', 'appId', 'digest', 'desired'], properties: {deploymentId: {type: 'string', format: 'uuid'}, clientId: {type: 'string'}, appId: {type: 'string'}, appVersion: {type: 'string'}, profile: {type: 'object'}, values: {type: 'object'}, digest: {type: 'string'}, desired: {enum: ['present', 'absent']}, status: {type: ['object', 'null']}, timeline: {type: 'array', items: {type: 'object'}}}},
    },
  },
} as const
