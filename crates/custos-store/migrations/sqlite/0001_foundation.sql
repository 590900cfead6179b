-- custos foundation schema (SQLite).
-- Timestamps are milliseconds since the Unix epoch. Ids of subjects and records are
-- 16-byte UUIDs. Every personal-data table has subject_id first in its key.

CREATE TABLE subjects (
    subject_id  BLOB    NOT NULL PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('visitor', 'user', 'partner_contact', 'partner_end_user')),
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- Identifiers are blind indexes (HMAC-SHA256), never the identifier itself.
CREATE TABLE identifiers (
    subject_id  BLOB    NOT NULL REFERENCES subjects (subject_id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    blind_index BLOB    NOT NULL CHECK (length(blind_index) = 32),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (subject_id, kind, blind_index)
) WITHOUT ROWID;
CREATE UNIQUE INDEX identifiers_lookup ON identifiers (kind, blind_index);

-- One sealed personal value per row.
CREATE TABLE records (
    subject_id     BLOB    NOT NULL REFERENCES subjects (subject_id) ON DELETE CASCADE,
    record_id      BLOB    NOT NULL,
    category       TEXT    NOT NULL,
    purpose        TEXT    NOT NULL,
    policy_version TEXT    NOT NULL,
    sealed         BLOB    NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER,
    PRIMARY KEY (subject_id, record_id)
) WITHOUT ROWID;
CREATE INDEX records_expiry ON records (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    idempotency_key TEXT,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'running', 'done', 'dead')),
    priority        INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL CHECK (max_attempts >= 1),
    run_at          INTEGER NOT NULL,
    locked_until    INTEGER,
    locked_by       TEXT,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX jobs_idempotency ON jobs (kind, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_due ON jobs (priority DESC, run_at, id) WHERE state = 'pending';
CREATE INDEX jobs_lease ON jobs (locked_until) WHERE state = 'running';
CREATE INDEX jobs_state ON jobs (state, id);

CREATE TABLE audit_log (
    seq        INTEGER NOT NULL PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    subject_id BLOB,
    purpose    TEXT,
    detail     TEXT    NOT NULL,
    prev_hash  BLOB    NOT NULL CHECK (length(prev_hash) = 32),
    hash       BLOB    NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX audit_log_subject ON audit_log (subject_id, seq) WHERE subject_id IS NOT NULL;
