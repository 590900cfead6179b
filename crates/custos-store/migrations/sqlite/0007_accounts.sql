-- Accounts (seed 1, 7): a user who signed up with a password. The email that logs in is
-- an identifier (blind index) of the subject; the password is kept only as an Argon2id hash.
CREATE TABLE accounts (
    subject_id    BLOB    NOT NULL PRIMARY KEY REFERENCES subjects (subject_id) ON DELETE CASCADE,
    password_hash TEXT    NOT NULL,
    verified_at   INTEGER,
    created_at    INTEGER NOT NULL
) WITHOUT ROWID;

-- Sessions and one-time tokens (email verification, password reset): only hashes.
CREATE TABLE account_tokens (
    subject_id BLOB    NOT NULL REFERENCES subjects (subject_id) ON DELETE CASCADE,
    token_hash BLOB    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('session', 'verify', 'reset')),
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (subject_id, token_hash)
) WITHOUT ROWID;
CREATE UNIQUE INDEX account_tokens_lookup ON account_tokens (token_hash);
