-- Staff of the operator who use the admin console (not data subjects): a login name, a
-- role from the gate's roles, the password only as an Argon2id hash.
CREATE TABLE staff (
    staff_id      UUID    NOT NULL PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'dpo', 'support', 'auditor')),
    password_hash TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    disabled_at   BIGINT
);

-- Console sessions and the one-time link that creates the first admin: hashes only.
CREATE TABLE staff_sessions (
    token_hash BYTEA  NOT NULL PRIMARY KEY,
    staff_id   UUID   NOT NULL REFERENCES staff (staff_id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);

CREATE TABLE staff_setup (
    token_hash BYTEA  NOT NULL PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
