-- Partners (seed 3): who they are, their API keys (as hashes), the sub-processors they
-- consented to, their pseudonymised records (sealed under each partner's own data key,
-- so that destroying the key at contract end leaves backups unreadable), the answers
-- given to idempotent uploads, and the privacy budget spent on noisy aggregates.
CREATE TABLE partners (
    partner_id            UUID    NOT NULL PRIMARY KEY,
    name                  TEXT    NOT NULL,
    country               TEXT    NOT NULL,
    role                  TEXT    NOT NULL,
    contract_status       TEXT    NOT NULL CHECK (contract_status IN ('active', 'suspended', 'terminating', 'terminated')),
    contact_subject_id    UUID,
    data_key_id           UUID    NOT NULL,
    transfers_outside_eea BOOLEAN NOT NULL DEFAULT FALSE,
    transfer_consent_ref  TEXT,
    transfer_consent_date TEXT,
    created_at            BIGINT NOT NULL,
    terminated_at         BIGINT,
    records_at_termination BIGINT,
    termination_report    TEXT
);

CREATE TABLE partner_keys (
    key_id      TEXT    NOT NULL PRIMARY KEY,
    partner_id  UUID    NOT NULL REFERENCES partners (partner_id),
    key_hash    BYTEA   NOT NULL CHECK (octet_length(key_hash) = 32),
    scopes      TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX partner_keys_partner ON partner_keys (partner_id, created_at);

CREATE TABLE partner_subprocessors (
    partner_id      UUID    NOT NULL REFERENCES partners (partner_id),
    subprocessor_id UUID    NOT NULL,
    name            TEXT    NOT NULL,
    country         TEXT    NOT NULL,
    activity        TEXT    NOT NULL,
    consent_ref     TEXT    NOT NULL,
    consent_date    TEXT    NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (partner_id, subprocessor_id)
);

-- One row per record a partner handed in. The pseudonym is kept only as a MAC under the
-- index key bound to the partner (the same pseudonym at two partners gives two indexes);
-- the record itself, pseudonym included, is sealed under the partner's data key.
CREATE TABLE partner_records (
    partner_id      UUID    NOT NULL REFERENCES partners (partner_id),
    pseudonym_index BYTEA   NOT NULL CHECK (octet_length(pseudonym_index) = 32),
    record_id       UUID    NOT NULL,
    upload_id       UUID    NOT NULL,
    sealed          BYTEA   NOT NULL,
    purpose         TEXT    NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('controller', 'processor')),
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (partner_id, pseudonym_index, record_id)
);
CREATE UNIQUE INDEX partner_records_id ON partner_records (record_id);

CREATE TABLE partner_uploads (
    partner_id      UUID    NOT NULL REFERENCES partners (partner_id),
    idempotency_key TEXT    NOT NULL,
    request_mac     BYTEA   NOT NULL CHECK (octet_length(request_mac) = 32),
    status          INTEGER NOT NULL,
    response        TEXT    NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (partner_id, idempotency_key)
);

CREATE TABLE privacy_budgets (
    dataset TEXT NOT NULL PRIMARY KEY,
    total   DOUBLE PRECISION NOT NULL,
    spent   DOUBLE PRECISION NOT NULL DEFAULT 0
);
