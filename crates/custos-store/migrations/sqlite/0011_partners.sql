-- Partners (seed 3): who they are, their API keys (as hashes), the sub-processors they
-- consented to, their pseudonymised records (sealed under each partner's own data key,
-- so that destroying the key at contract end leaves backups unreadable), the answers
-- given to idempotent uploads, and the privacy budget spent on noisy aggregates.
CREATE TABLE partners (
    partner_id            BLOB    NOT NULL PRIMARY KEY,
    name                  TEXT    NOT NULL,
    country               TEXT    NOT NULL,
    role                  TEXT    NOT NULL,
    contract_status       TEXT    NOT NULL CHECK (contract_status IN ('active', 'suspended', 'terminating', 'terminated')),
    contact_subject_id    BLOB,
    data_key_id           BLOB    NOT NULL,
    transfers_outside_eea INTEGER NOT NULL DEFAULT 0,
    transfer_consent_ref  TEXT,
    transfer_consent_date TEXT,
    created_at            INTEGER NOT NULL,
    terminated_at         INTEGER,
    records_at_termination INTEGER,
    termination_report    TEXT
) WITHOUT ROWID;

CREATE TABLE partner_keys (
    key_id      TEXT    NOT NULL PRIMARY KEY,
    partner_id  BLOB    NOT NULL REFERENCES partners (partner_id),
    key_hash    BLOB    NOT NULL CHECK (length(key_hash) = 32),
    scopes      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) WITHOUT ROWID;
CREATE INDEX partner_keys_partner ON partner_keys (partner_id, created_at);

CREATE TABLE partner_subprocessors (
    partner_id      BLOB    NOT NULL REFERENCES partners (partner_id),
    subprocessor_id BLOB    NOT NULL,
    name            TEXT    NOT NULL,
    country         TEXT    NOT NULL,
    activity        TEXT    NOT NULL,
    consent_ref     TEXT    NOT NULL,
    consent_date    TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (partner_id, subprocessor_id)
) WITHOUT ROWID;

-- One row per record a partner handed in. The pseudonym is kept only as a MAC under the
-- index key bound to the partner (the same pseudonym at two partners gives two indexes);
-- the record itself, pseudonym included, is sealed under the partner's data key.
CREATE TABLE partner_records (
    partner_id      BLOB    NOT NULL REFERENCES partners (partner_id),
    pseudonym_index BLOB    NOT NULL CHECK (length(pseudonym_index) = 32),
    record_id       BLOB    NOT NULL,
    upload_id       BLOB    NOT NULL,
    sealed          BLOB    NOT NULL,
    purpose         TEXT    NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('controller', 'processor')),
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (partner_id, pseudonym_index, record_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX partner_records_id ON partner_records (record_id);

CREATE TABLE partner_uploads (
    partner_id      BLOB    NOT NULL REFERENCES partners (partner_id),
    idempotency_key TEXT    NOT NULL,
    request_mac     BLOB    NOT NULL CHECK (length(request_mac) = 32),
    status          INTEGER NOT NULL,
    response        TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (partner_id, idempotency_key)
) WITHOUT ROWID;

CREATE TABLE privacy_budgets (
    dataset TEXT NOT NULL PRIMARY KEY,
    total   REAL NOT NULL,
    spent   REAL NOT NULL DEFAULT 0
) WITHOUT ROWID;
