-- custos foundation schema (PostgreSQL).
-- Timestamps are milliseconds since the Unix epoch, as on SQLite, so that both backends
-- compare them the same way. Every personal-data table has subject_id first in its key,
-- so that on Citus the tables can be distributed and colocated by subject_id.

CREATE TABLE subjects (
    subject_id  UUID    NOT NULL PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('visitor', 'user', 'partner_contact', 'partner_end_user')),
    created_at  BIGINT  NOT NULL
);

-- Identifiers are blind indexes (HMAC-SHA256), never the identifier itself.
-- On Citus, identifiers_lookup cannot stay unique across shards; a lookup table
-- distributed by blind_index takes its place there.
CREATE TABLE identifiers (
    subject_id  UUID    NOT NULL REFERENCES subjects (subject_id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    blind_index BYTEA   NOT NULL CHECK (length(blind_index) = 32),
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (subject_id, kind, blind_index)
);
CREATE UNIQUE INDEX identifiers_lookup ON identifiers (kind, blind_index);

-- One sealed personal value per row.
CREATE TABLE records (
    subject_id     UUID    NOT NULL REFERENCES subjects (subject_id) ON DELETE CASCADE,
    record_id      UUID    NOT NULL,
    category       TEXT    NOT NULL,
    purpose        TEXT    NOT NULL,
    policy_version TEXT    NOT NULL,
    sealed         BYTEA   NOT NULL,
    created_at     BIGINT  NOT NULL,
    expires_at     BIGINT,
    PRIMARY KEY (subject_id, record_id)
);
CREATE INDEX records_expiry ON records (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE jobs (
    id              BIGINT   GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            TEXT     NOT NULL,
    payload         TEXT     NOT NULL,
    idempotency_key TEXT,
    state           TEXT     NOT NULL CHECK (state IN ('pending', 'running', 'done', 'dead')),
    priority        SMALLINT NOT NULL DEFAULT 0,
    attempts        INTEGER  NOT NULL DEFAULT 0,
    max_attempts    INTEGER  NOT NULL CHECK (max_attempts >= 1),
    run_at          BIGINT   NOT NULL,
    locked_until    BIGINT,
    locked_by       TEXT,
    last_error      TEXT,
    created_at      BIGINT   NOT NULL,
    updated_at      BIGINT   NOT NULL
);
CREATE UNIQUE INDEX jobs_idempotency ON jobs (kind, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_due ON jobs (priority DESC, run_at, id) WHERE state = 'pending';
CREATE INDEX jobs_lease ON jobs (locked_until) WHERE state = 'running';
CREATE INDEX jobs_state ON jobs (state, id);

CREATE TABLE audit_log (
    seq        BIGINT  NOT NULL PRIMARY KEY,
    at         BIGINT  NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    subject_id UUID,
    purpose    TEXT,
    detail     TEXT    NOT NULL,
    prev_hash  BYTEA   NOT NULL CHECK (length(prev_hash) = 32),
    hash       BYTEA   NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX audit_log_subject ON audit_log (subject_id, seq) WHERE subject_id IS NOT NULL;
