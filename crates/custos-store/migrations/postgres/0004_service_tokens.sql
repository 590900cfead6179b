-- Tokens the operator's services authenticate with. Only a hash of each secret is kept.
CREATE TABLE service_tokens (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    secret_hash BYTEA   NOT NULL CHECK (length(secret_hash) = 32),
    purposes    TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    revoked_at  BIGINT
);
