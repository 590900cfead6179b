-- The key store: kept apart from the main database (by default ./data/keys.db), so that a
-- copy of the main database never holds the keys that open it. Erasing a person deletes
-- their data key here: every copy of their sealed data, backups included, becomes unreadable.

-- One data key per subject, wrapped under a master key.
CREATE TABLE data_keys (
    subject_id    BLOB    NOT NULL PRIMARY KEY,
    master_key_id TEXT    NOT NULL,
    wrapped       BLOB    NOT NULL,
    created_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX data_keys_master ON data_keys (master_key_id, subject_id);

-- Subjects whose data key was destroyed, so that "erased" can be told from "unknown".
CREATE TABLE erased_subjects (
    subject_id BLOB    NOT NULL PRIMARY KEY,
    erased_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- Keys of custos itself (the blind-index key), wrapped under a master key.
CREATE TABLE system_keys (
    name          TEXT    NOT NULL PRIMARY KEY,
    master_key_id TEXT    NOT NULL,
    wrapped       BLOB    NOT NULL,
    created_at    INTEGER NOT NULL
);

-- The head of the audit chain, kept apart from the chain so that truncating the chain
-- in the main database is detected.
CREATE TABLE audit_anchor (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash BLOB    NOT NULL,
    at   INTEGER NOT NULL
);
