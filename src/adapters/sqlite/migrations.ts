/**
 * Schema versions, applied in order; `PRAGMA user_version` records the last applied.
 * Append new versions; never edit one that has shipped.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'audit log',
    sql: `
      CREATE TABLE audit_log (
        id        INTEGER PRIMARY KEY,
        at        TEXT NOT NULL,
        actor     TEXT NOT NULL,
        action    TEXT NOT NULL,
        subject   TEXT NOT NULL,
        detail    TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL
      );
      CREATE INDEX audit_log_at ON audit_log (at);
      CREATE INDEX audit_log_subject ON audit_log (subject, id);
      -- Append-only: the app never changes a row; these make an accidental UPDATE or DELETE fail loudly.
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    `,
  },
  {
    version: 2,
    name: 'releases',
    sql: `
      CREATE TABLE releases (
        id           TEXT PRIMARY KEY,
        kind         TEXT NOT NULL CHECK (kind IN ('release', 'rollback', 'hotfix')),
        service      TEXT NOT NULL,
        environment  TEXT NOT NULL,
        from_version TEXT,
        to_version   TEXT,
        state        TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        reason       TEXT,
        created_at   TEXT NOT NULL,
        finished_at  TEXT,
        outcome      TEXT
      );
      CREATE INDEX releases_service ON releases (service, environment, created_at);
    `,
  },
  {
    version: 3,
    name: 'approval requests and votes',
    sql: `
      CREATE TABLE approval_requests (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('release', 'rollback', 'hotfix')),
        service     TEXT NOT NULL,
        environment TEXT NOT NULL,
        requester   TEXT NOT NULL,
        requirement TEXT NOT NULL,
        summary     TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('pending', 'granted', 'refused', 'expired')),
        created_at  TEXT NOT NULL,
        expires_at  TEXT NOT NULL,
        decided_at  TEXT,
        channel     TEXT,
        message_ts  TEXT
      );
      CREATE INDEX approval_requests_subject ON approval_requests (service, environment, state);
      CREATE INDEX approval_requests_due ON approval_requests (state, expires_at);
      -- One vote per person per request, whatever reaches the database twice.
      CREATE TABLE approval_votes (
        request_id INTEGER NOT NULL REFERENCES approval_requests (id),
        voter      TEXT NOT NULL,
        decision   TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
        role       TEXT NOT NULL,
        reason     TEXT,
        at         TEXT NOT NULL,
        PRIMARY KEY (request_id, voter)
      );
    `,
  },
  {
    version: 4,
    name: 'outbox',
    sql: `
      -- Chat messages written in the transaction of the transition that caused them, delivered by one sender.
      CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY,
        key             TEXT NOT NULL UNIQUE,
        slot            TEXT,
        channel         TEXT NOT NULL,
        thread_ts       TEXT,
        update_ts       TEXT,
        payload         TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        attempted_at    TEXT,
        in_doubt        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error      TEXT,
        sent_at         TEXT,
        sent_channel    TEXT,
        sent_ts         TEXT,
        gave_up_at      TEXT
      );
      CREATE INDEX outbox_pending ON outbox (channel, id) WHERE sent_at IS NULL AND gave_up_at IS NULL;
      -- Where each slot's message landed: later entries of the slot update it.
      CREATE TABLE outbox_slots (
        slot    TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        ts      TEXT NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'operations',
    sql: `
      -- A release, hotfix or rollback as the engine drives it. The columns are what people and queries look for;
      -- the rest of the state machine's record is in body (JSON). version is for compare-and-set.
      CREATE TABLE operations (
        id            INTEGER PRIMARY KEY,
        request_id    INTEGER UNIQUE REFERENCES approval_requests (id),
        kind          TEXT NOT NULL CHECK (kind IN ('release', 'rollback', 'hotfix')),
        service       TEXT NOT NULL,
        environment   TEXT NOT NULL,
        state         TEXT NOT NULL,
        phase         TEXT NOT NULL,
        step          INTEGER NOT NULL,
        weight        REAL NOT NULL,
        from_version  TEXT NOT NULL,
        to_version    TEXT,
        requested_by  TEXT NOT NULL,
        approved_by   TEXT NOT NULL,
        card_channel  TEXT,
        card_ts       TEXT,
        wake_at       TEXT,
        body          TEXT NOT NULL,
        version       INTEGER NOT NULL,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        finished_at   TEXT
      );
      -- One active operation per service and environment, whatever reaches the database.
      CREATE UNIQUE INDEX operations_one_active ON operations (service, environment)
        WHERE state IN ('running', 'paused', 'rolling-back');
      CREATE INDEX operations_subject ON operations (service, environment, created_at);
    `,
  },
  {
    version: 6,
    name: 'freezes and version holds',
    sql: `
      -- Freezes started by hand (/release freeze, the Freeze button of an incident post); scheduled windows come from
      -- the config. ends_at NULL: until someone unfreezes. ended_at: when someone did.
      CREATE TABLE freezes (
        id          INTEGER PRIMARY KEY,
        environment TEXT NOT NULL,
        reason      TEXT NOT NULL,
        by          TEXT NOT NULL,
        started_at  TEXT NOT NULL,
        ends_at     TEXT,
        ended_at    TEXT,
        ended_by    TEXT
      );
      CREATE INDEX freezes_open ON freezes (environment) WHERE ended_at IS NULL;
      -- Versions rolled back, held for their service and environment until lifted (/release unhold).
      CREATE TABLE version_holds (
        id           INTEGER PRIMARY KEY,
        service      TEXT NOT NULL,
        environment  TEXT NOT NULL,
        version      TEXT NOT NULL,
        operation_id INTEGER NOT NULL REFERENCES operations (id),
        reason       TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        lifted_at    TEXT,
        lifted_by    TEXT
      );
      -- One hold in force per version: a second rollback of a held version keeps the first hold.
      CREATE UNIQUE INDEX version_holds_one_open ON version_holds (service, environment, version) WHERE lifted_at IS NULL;
    `,
  },
  {
    version: 7,
    name: 'lock waiters',
    sql: `
      -- Those refused while an operation held their service: each is told once, when it ends. One row per user
      -- per operation, however often they ask; notified_at is written with the message, so a restart never resends.
      CREATE TABLE lock_waiters (
        operation_id  INTEGER NOT NULL REFERENCES operations (id),
        service       TEXT NOT NULL,
        environment   TEXT NOT NULL,
        user          TEXT NOT NULL,
        asked_kind    TEXT NOT NULL CHECK (asked_kind IN ('release', 'hotfix')),
        asked_version TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        notified_at   TEXT,
        PRIMARY KEY (operation_id, user)
      );
    `,
  },
  {
    version: 8,
    name: 'rollback evidence',
    sql: `
      -- What the cluster looked like at each rollback decision (pod logs, Events, Deployments, the failing metrics):
      -- one row per operation, written once and never changed; payload is JSON cut to evidence.maxBytes.
      CREATE TABLE evidence (
        operation_id INTEGER PRIMARY KEY REFERENCES operations (id),
        collected_at TEXT NOT NULL,
        bytes        INTEGER NOT NULL,
        payload      TEXT NOT NULL
      );
    `,
  },
  {
    version: 9,
    name: 'post-mortem drafts and incident acknowledgements',
    sql: `
      -- The post-mortem draft of a rollback, written once (automated rollbacks as they end, manual ones on request).
      CREATE TABLE postmortems (
        operation_id INTEGER PRIMARY KEY REFERENCES operations (id),
        markdown     TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        requested_by TEXT NOT NULL
      );
      -- Who acknowledged an incident post first, and when.
      CREATE TABLE incident_acks (
        operation_id INTEGER PRIMARY KEY REFERENCES operations (id),
        by           TEXT NOT NULL,
        at           TEXT NOT NULL
      );
      -- A file upload's id, recorded once Slack gave it and before the file is shared: a retry whose answer was
      -- lost looks for that file in the thread rather than uploading it twice.
      ALTER TABLE outbox ADD COLUMN file_id TEXT;
    `,
  },
];
