/**
 * What changed on the server. The operator event stream (`GET /events`) sends each one as
 * `event: <type>` with the event as JSON in `data:`; in-process listeners on the server get the
 * same objects.
 */
export type ServerEvent =
  | {type: 'device.onboarded' | 'device.updated', clientId: string}
  | {type: 'device.seen', clientId: string}
  | {type: 'deployment.changed', deploymentId: string, clientId: string}
  | {type: 'deployment.status', deploymentId: string, clientId: string, state: string}
  | {type: 'manifest.published', clientId: string, manifestVersion: number}
  | {type: 'app.published', appId: string, version: string}
  /** A device's certificate came within the warning window of its expiry (once per entry into it). */
  | {type: 'device.certificate_expiring', clientId: string, notAfter: string}
  /**
   * A staged rollout moved: a run started, a wave started or completed, it waits between
   * waves, was paused, resumed or aborted, completed, or rolled back; `wave` is 1-based and
   * `actor` is the operator's token name, or `system` for what the server decided itself.
   */
  | {type: 'rollout.progress', rolloutId: string, name: string, change: RolloutChangeKind, wave: number, reason: string, actor: string}

export type RolloutChangeKind = 'run_started' | 'wave_started' | 'wave_completed' | 'waiting' | 'paused' | 'resumed' | 'aborted' | 'completed' | 'rolled_back'

export type ServerEventType = ServerEvent['type']
