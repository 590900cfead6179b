-- Rights requests (seed 7, 8). No personal data in clear: the address the person gave is
-- a blind index and a value sealed under the request's own data key; the code is a hash.
-- subject_id has no foreign key: an erasure request outlives the person it erased.
CREATE TABLE rights_requests (
    request_id       UUID    NOT NULL PRIMARY KEY,
    kind             TEXT    NOT NULL CHECK (kind IN ('access', 'rectification', 'erasure', 'restriction', 'portability', 'objection', 'withdrawal')),
    purpose          TEXT,
    channel          TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('unverified', 'verified', 'in_progress', 'fulfilled', 'denied', 'expired', 'revoked')),
    email_index      BYTEA    NOT NULL,
    sealed_email     BYTEA    NOT NULL,
    sealed_details   BYTEA,
    subject_id       UUID,
    received_at      BIGINT NOT NULL,
    due_at           BIGINT NOT NULL,
    extension_reason TEXT,
    code_hash        BYTEA,
    code_expires_at  BIGINT,
    code_attempts    INTEGER NOT NULL DEFAULT 0,
    verified_at      BIGINT,
    steps            TEXT    NOT NULL DEFAULT '[]',
    outcome          TEXT,
    closed_at        BIGINT,
    agent_id         TEXT,
    agent_request_id TEXT
);
CREATE INDEX rights_requests_open ON rights_requests (due_at, request_id) WHERE state NOT IN ('fulfilled', 'denied', 'expired', 'revoked');

-- The copy an access request produced, sealed under the person's own key and kept for a
-- few days for download: erasing the person erases it.
CREATE TABLE rights_packages (
    request_id UUID NOT NULL PRIMARY KEY,
    subject_id UUID    NOT NULL REFERENCES subjects (subject_id) ON DELETE CASCADE,
    sealed     BYTEA    NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Authorized agents of the Data Rights Protocol: the bearer token each paired agent was
-- given, as a hash.
CREATE TABLE drp_agent_tokens (
    agent_id   TEXT    NOT NULL PRIMARY KEY,
    token_hash BYTEA    NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX drp_agent_tokens_hash ON drp_agent_tokens (token_hash);
