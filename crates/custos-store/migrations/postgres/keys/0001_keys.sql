-- The key store: kept apart from the main database (a separate database in production), so that a
-- copy of the main database never holds the keys that open it. Erasing a person deletes
-- their data key here: every copy of their sealed data, backups included, becomes unreadable.

-- One data key per subject, wrapped under a master key.
CREATE TABLE data_keys (
    subject_id    UUID    NOT NULL PRIMARY KEY,
    master_key_id TEXT    NOT NULL,
    wrapped       BYTEA   NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX data_keys_master ON data_keys (master_key_id, subject_id);

-- Subjects whose data key was destroyed, so that "erased" can be told from "unknown".
CREATE TABLE erased_subjects (
    subject_id UUID    NOT NULL PRIMARY KEY,
    erased_at  BIGINT  NOT NULL
);

-- Keys of custos itself (the blind-index key), wrapped under a master key.
CREATE TABLE system_keys (
    name          TEXT    NOT NULL PRIMARY KEY,
    master_key_id TEXT    NOT NULL,
    wrapped       BYTEA   NOT NULL,
    created_at    BIGINT  NOT NULL
);

-- The head of the audit chain, kept apart from the chain so that truncating the chain
-- in the main database is detected.
CREATE TABLE audit_anchor (
    id   SMALLINT NOT NULL PRIMARY KEY CHECK (id = 1),
    seq  BIGINT  NOT NULL,
    hash BYTEA   NOT NULL,
    at   BIGINT  NOT NULL
);
