-- What a person chose, as the gate needs it. The consent ledger is append-only: the
-- current state of a purpose is its latest entry.
CREATE TABLE consents (
    subject_id     BLOB    NOT NULL REFERENCES subjects (subject_id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    purpose        TEXT    NOT NULL,
    granted        INTEGER NOT NULL CHECK (granted IN (0, 1)),
    method         TEXT    NOT NULL,
    policy_version TEXT    NOT NULL,
    at             INTEGER NOT NULL,
    PRIMARY KEY (subject_id, seq)
) WITHOUT ROWID;
CREATE INDEX consents_purpose ON consents (subject_id, purpose, seq);

-- Objections (Art. 21), with the compelling grounds the controller may record.
CREATE TABLE objections (
    subject_id         BLOB    NOT NULL REFERENCES subjects (subject_id) ON DELETE CASCADE,
    purpose            TEXT    NOT NULL,
    at                 INTEGER NOT NULL,
    compelling_grounds TEXT,
    PRIMARY KEY (subject_id, purpose)
) WITHOUT ROWID;

-- Restriction of processing (Art. 18).
CREATE TABLE restrictions (
    subject_id BLOB    NOT NULL PRIMARY KEY REFERENCES subjects (subject_id) ON DELETE CASCADE,
    ground     TEXT    NOT NULL,
    since      INTEGER NOT NULL
) WITHOUT ROWID;
