import type {SqlDatabase as Database} from './engine.ts'
import {nameRollouts} from './migrations/rollout-names.ts'

/**
 * A migration: SQL, or a function for steps SQL cannot say (naming, merging). A function runs
 * in the migration's transaction and returns notes for the operator (also kept in
 * `migration_notes` by the migration itself).
 */
export type Migration = string | ((db: Database) => string[])

/**
 * SQLite schema, versioned with PRAGMA user_version. Each entry migrates from the previous
 * version; never edit a shipped entry, append a new one.
 */
export const MIGRATIONS: Migration[] = [
  `
  CREATE TABLE clients (
    client_id            TEXT PRIMARY KEY,
    fingerprint          TEXT NOT NULL UNIQUE,          -- 'sha256:' + hex of the certificate DER
    certificate_pem      TEXT NOT NULL,
    subject              TEXT NOT NULL,
    key_type             TEXT NOT NULL,
    not_after            TEXT NOT NULL,
    enrollment           TEXT NOT NULL CHECK (enrollment IN ('pending', 'active', 'revoked')),
    onboarded_at         TEXT NOT NULL,
    last_seen_at         TEXT,
    capabilities_json    TEXT,
    capabilities_at      TEXT,
    labels_json          TEXT NOT NULL DEFAULT '{}',
    manifest_version     INTEGER NOT NULL DEFAULT 0
  );

  -- Certificates an operator registered ahead of onboarding (allowlist enrollment, pre-approval).
  CREATE TABLE preregistered (
    fingerprint TEXT PRIMARY KEY,
    created_at  TEXT NOT NULL
  );

  -- Values refused at onboarding before any parsing: certificate fingerprints or literal strings.
  CREATE TABLE denied_certificates (
    value      TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
  );

  CREATE TABLE app_versions (
    app_id            TEXT NOT NULL,
    version           TEXT NOT NULL,
    name              TEXT NOT NULL,
    description_yaml  TEXT NOT NULL,                    -- the source as published, byte for byte
    description_json  TEXT NOT NULL,                    -- the parsed, validated document
    package_digest    TEXT,                             -- digest of the uploaded package, if any
    package_bytes     BLOB,
    published_at      TEXT NOT NULL,
    PRIMARY KEY (app_id, version)
  );

  CREATE TABLE deployments (
    deployment_id  TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES clients(client_id),
    app_id         TEXT NOT NULL,
    app_version    TEXT NOT NULL,
    profile_id     TEXT NOT NULL,
    profile_type   TEXT NOT NULL,
    values_json    TEXT NOT NULL,
    digest         TEXT NOT NULL,                       -- digest of the current YAML artifact
    desired        TEXT NOT NULL CHECK (desired IN ('present', 'absent')),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
  );
  CREATE INDEX deployments_by_client ON deployments(client_id);

  -- Content-addressed bytes: deployment YAMLs and bundles, served exactly as stored.
  CREATE TABLE artifacts (
    digest      TEXT PRIMARY KEY,
    media_type  TEXT NOT NULL,
    bytes       BLOB NOT NULL,
    created_at  TEXT NOT NULL
  );

  -- Every manifest issued to a client, kept for a grace period so its artifacts stay fetchable.
  CREATE TABLE manifests (
    client_id         TEXT NOT NULL REFERENCES clients(client_id),
    manifest_version  INTEGER NOT NULL,
    bytes             BLOB NOT NULL,
    etag              TEXT NOT NULL,
    bundle_digest     TEXT,
    created_at        TEXT NOT NULL,
    PRIMARY KEY (client_id, manifest_version)
  );

  CREATE TABLE manifest_entries (
    client_id         TEXT NOT NULL,
    manifest_version  INTEGER NOT NULL,
    deployment_id     TEXT NOT NULL,
    digest            TEXT NOT NULL,
    PRIMARY KEY (client_id, manifest_version, deployment_id)
  );
  CREATE INDEX manifest_entries_by_digest ON manifest_entries(client_id, deployment_id, digest);

  -- Every status report received (the timeline), and the latest one per deployment.
  CREATE TABLE status_reports (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id    TEXT NOT NULL,
    client_id        TEXT NOT NULL,
    state            TEXT NOT NULL,
    error_json       TEXT,
    components_json  TEXT NOT NULL,
    received_at      TEXT NOT NULL
  );
  CREATE INDEX status_reports_by_deployment ON status_reports(deployment_id, id);
  `,
  `
  -- Registries the catalog is filled from (OCI distribution or git), and what each sync found.
  CREATE TABLE registries (
    name              TEXT PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('oci', 'git')),
    url               TEXT NOT NULL,
    ref               TEXT,                             -- git branch or tag; OCI: unused
    repositories_json TEXT NOT NULL DEFAULT '[]',       -- OCI repositories to read (catalog listing is optional in registries)
    credentials_json  TEXT,                             -- basic or bearer credentials; never returned by the API
    interval_seconds  INTEGER NOT NULL DEFAULT 3600,
    created_at        TEXT NOT NULL,
    last_sync_at      TEXT,
    last_sync_json    TEXT                              -- {appsFound, versionsAdded, errors[]}
  );
  ALTER TABLE app_versions ADD COLUMN source TEXT;      -- 'upload' or 'registry:<name>'

  -- Fleet-wide deploys: one app to a device list or a live label selector. Each matching device
  -- gets (and keeps, while it matches) one ordinary deployment linked here.
  CREATE TABLE rollouts (
    rollout_id    TEXT PRIMARY KEY,
    app_id        TEXT NOT NULL,
    app_version   TEXT,                                 -- null: the latest version at each evaluation
    selector      TEXT,                                 -- label selector; null when devices are listed
    devices_json  TEXT NOT NULL DEFAULT '[]',
    profile       TEXT,
    values_json   TEXT NOT NULL DEFAULT '{}',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    deleted       INTEGER NOT NULL DEFAULT 0
  );
  ALTER TABLE deployments ADD COLUMN rollout_id TEXT;
  CREATE INDEX deployments_by_rollout ON deployments(rollout_id);
  `,
  `
  -- A run of identical status reports is one timeline row: how many came, and when the last did.
  ALTER TABLE status_reports ADD COLUMN repeat_count INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE status_reports ADD COLUMN last_received_at TEXT;
  `,
  `
  -- Operator API tokens: only the SHA-256 of each secret is kept. The scope is a label selector.
  CREATE TABLE operator_tokens (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer', 'auditor')),
    scope         TEXT,                                 -- canonical label selector; null: the whole fleet
    token_hash    TEXT NOT NULL UNIQUE,                 -- hex SHA-256 of the token
    created_at    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    expires_at    TEXT,
    revoked_at    TEXT,
    last_used_at  TEXT
  );

  -- Append-only audit log; each entry carries the SHA-256 of the previous one (a hash chain).
  CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,                          -- a token name, or 'system'
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    summary     TEXT NOT NULL,                          -- JSON, values redacted
    request_id  TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
  );
  CREATE INDEX audit_log_by_actor ON audit_log(actor, seq);
  CREATE INDEX audit_log_by_target ON audit_log(target, seq);
  `,
  `
  -- Rollouts are named (a DNS label, unique among live rollouts) and keep every change as a
  -- numbered revision with who made it and when.
  ALTER TABLE rollouts ADD COLUMN name TEXT;
  ALTER TABLE rollouts ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
  CREATE TABLE rollout_revisions (
    rollout_id    TEXT NOT NULL REFERENCES rollouts(rollout_id),
    revision      INTEGER NOT NULL,
    app_version   TEXT,
    selector      TEXT,
    devices_json  TEXT NOT NULL DEFAULT '[]',
    profile       TEXT,
    values_json   TEXT NOT NULL DEFAULT '{}',
    actor         TEXT NOT NULL,
    cause         TEXT,                                 -- 'undo to revision 2', 'migrated', …
    created_at    TEXT NOT NULL,
    PRIMARY KEY (rollout_id, revision)
  );
  -- A deployment the operator dropped from the fleet view without the device confirming removal.
  ALTER TABLE deployments ADD COLUMN forgotten_at TEXT;
  -- What a migration changed or could not decide, for the operator to read.
  CREATE TABLE migration_notes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    migration   INTEGER NOT NULL,
    subject     TEXT NOT NULL,
    message     TEXT NOT NULL,
    created_at  TEXT NOT NULL
  );
  `,
  nameRollouts,
  `
  CREATE UNIQUE INDEX rollouts_live_name ON rollouts(name) WHERE deleted = 0;
  `,
  `
  -- Several serve processes share one database (serve --workers). Each of these tables is how
  -- they learn of one another's work.
  -- Events in the order they happened, whichever process emitted them; the id is the event id
  -- of the operator event stream (Last-Event-ID), so a client may reconnect to any process.
  CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    origin      TEXT NOT NULL,                          -- the emitting process
    json        TEXT NOT NULL
  );
  -- Clients whose cached credential or manifest ETag another process must forget.
  CREATE TABLE cache_invalidations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id   TEXT NOT NULL
  );
  -- Who runs a job that must run once (the controllers), until when, unless renewed.
  CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  INTEGER NOT NULL                        -- ms since the epoch
  );
  -- Each process's own metrics, for a scrape answered by any of them.
  CREATE TABLE metrics_snapshots (
    worker      INTEGER PRIMARY KEY,
    updated_at  INTEGER NOT NULL,                       -- ms since the epoch
    json        TEXT NOT NULL
  );
  `,
  `
  -- Join tokens: an installer or agent presents one to preauthorise the certificate it is about to
  -- onboard with. Only the SHA-256 of each secret is kept.
  CREATE TABLE join_tokens (
    id            TEXT PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,                 -- hex SHA-256 of the token
    labels_json   TEXT NOT NULL DEFAULT '{}',           -- applied to the device when it onboards
    scope         TEXT,                                 -- label selector the device's labels must match
    max_uses      INTEGER NOT NULL,
    uses          INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT,
    last_used_at  TEXT
  );
  -- A preauthorisation may carry labels for the device, and names the join token that made it.
  ALTER TABLE preregistered ADD COLUMN labels_json TEXT;
  ALTER TABLE preregistered ADD COLUMN join_token TEXT;
  `,
  `
  -- Secrets parameter values refer to as \${secret:NAME}: AES-256-GCM under the server's key,
  -- the name as additional data. Only the device's own deployment YAML holds the value in clear.
  CREATE TABLE secrets (
    name        TEXT PRIMARY KEY,
    nonce       BLOB NOT NULL,                          -- 96 random bits, new for every value
    sealed      BLOB NOT NULL,                          -- ciphertext, then the 16-byte tag
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL
  );
  `,
  `
  -- A device that was rejected, deleted or replaced stays as a tombstone (enrollment 'revoked'),
  -- so its certificate cannot onboard again unless an operator allows it.
  ALTER TABLE clients ADD COLUMN tombstone TEXT CHECK (tombstone IN ('rejected', 'deleted', 'replaced'));
  ALTER TABLE clients ADD COLUMN tombstone_at TEXT;
  ALTER TABLE clients ADD COLUMN replaced_by TEXT;
  ALTER TABLE clients ADD COLUMN reonboard_allowed INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- Progressive delivery: a rollout's staging (waves, thresholds, offline rule, pauses), the run
  -- of its current revision, and when each device was let through in that run.
  ALTER TABLE rollouts ADD COLUMN strategy_json TEXT;
  ALTER TABLE rollouts ADD COLUMN set_for_json TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE rollout_revisions ADD COLUMN set_for_json TEXT NOT NULL DEFAULT '[]';
  CREATE TABLE rollout_runs (
    rollout_id  TEXT PRIMARY KEY REFERENCES rollouts(rollout_id),
    state_json  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
  );
  CREATE TABLE rollout_admissions (
    rollout_id    TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    run_key       TEXT NOT NULL,                        -- '<revision>@<app version>'
    admitted_at   TEXT NOT NULL,
    skipped_json  TEXT,                                 -- why the rollout cannot run there, if so
    PRIMARY KEY (rollout_id, client_id)
  );
  -- Update windows: devices a selector matches are only advanced while one of theirs is open.
  CREATE TABLE update_windows (
    name         TEXT PRIMARY KEY,
    selector     TEXT NOT NULL,
    schedule     TEXT NOT NULL,                         -- five-field cron
    duration_ms  INTEGER NOT NULL,
    time_zone    TEXT NOT NULL,
    created_at   TEXT NOT NULL
  );
  `,
  `
  -- The lowest manifest version a client may be issued next. A restore raises it for every
  -- client past anything the server could have issued since the backup, so no device takes the
  -- restored server's manifests for a rollback (src/server/desired-state/version-floor.ts).
  ALTER TABLE clients ADD COLUMN manifest_floor INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- Metrics snapshots are one node's processes (several nodes may share a PostgreSQL database):
  -- keyed by node and worker. The table only caches the last few seconds, so it starts empty.
  DROP TABLE metrics_snapshots;
  CREATE TABLE metrics_snapshots (
    node        TEXT NOT NULL,
    worker      INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,                       -- ms since the epoch
    json        TEXT NOT NULL,
    PRIMARY KEY (node, worker)
  );
  `,
]
