-- What a person chose, as the gate needs it. The consent ledger is append-only: the
-- current state of a purpose is its latest entry.
CREATE TABLE consents (
    subject_id     UUID    NOT NULL REFERENCES subjects (subject_id) ON DELETE CASCADE,
    seq            BIGINT  NOT NULL,
    purpose        TEXT    NOT NULL,
    granted        BOOLEAN NOT NULL,
    method         TEXT    NOT NULL,
    policy_version TEXT    NOT NULL,
    at             BIGINT  NOT NULL,
    PRIMARY KEY (subject_id, seq)
);
CREATE INDEX consents_purpose ON consents (subject_id, purpose, seq);

-- Objections (Art. 21), with the compelling grounds the controller may record.
CREATE TABLE objections (
    subject_id         UUID    NOT NULL REFERENCES subjects (subject_id) ON DELETE CASCADE,
    purpose            TEXT    NOT NULL,
    at                 BIGINT  NOT NULL,
    compelling_grounds TEXT,
    PRIMARY KEY (subject_id, purpose)
);

-- Restriction of processing (Art. 18).
CREATE TABLE restrictions (
    subject_id UUID    NOT NULL PRIMARY KEY REFERENCES subjects (subject_id) ON DELETE CASCADE,
    ground     TEXT    NOT NULL,
    since      BIGINT  NOT NULL
);
