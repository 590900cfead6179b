-- Governance (seed 2.4, 4, 6, 7, 11): legal holds, retention sweeps, the disclosure log,
-- notices to recipients and partners, the breach register and legal disclosure requests.
-- Staff text (reasons, natures, authorities) is register text, never a person's identifier;
-- people appear only by their random subject id.

-- Legal holds (Art. 17(3)(b), (e)): while active, deletion stops in their scope.
CREATE TABLE legal_holds (
    hold_id        UUID    NOT NULL PRIMARY KEY,
    scope          TEXT    NOT NULL CHECK (scope IN ('subject', 'category', 'purpose', 'all')),
    target         TEXT,
    reason         TEXT    NOT NULL,
    placed_by      TEXT    NOT NULL,
    placed_at      BIGINT NOT NULL,
    until_at       BIGINT,
    released_at    BIGINT,
    released_by    TEXT,
    release_reason TEXT,
    CHECK ((scope = 'all') = (target IS NULL))
);
CREATE INDEX legal_holds_active ON legal_holds (scope, target) WHERE released_at IS NULL;

-- Retention sweeps: the progress of each, so that a sweep cut short resumes where it was.
CREATE TABLE retention_sweeps (
    sweep_id    UUID    NOT NULL PRIMARY KEY,
    started_at  BIGINT NOT NULL,
    cutoff      BIGINT NOT NULL,
    dry_run     BOOLEAN NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('running', 'done')),
    cursor_at   BIGINT,
    cursor_subject UUID,
    cursor_record  UUID,
    deleted     TEXT    NOT NULL DEFAULT '{}',
    held        TEXT    NOT NULL DEFAULT '{}',
    finished_at BIGINT
);
CREATE INDEX retention_sweeps_running ON retention_sweeps (started_at) WHERE state = 'running';
-- The expiry index walks records in (expires_at, subject_id, record_id) order.
-- It replaces the index on expires_at alone, so that a write maintains one index, not two.
CREATE INDEX records_expiry_walk ON records (expires_at, subject_id, record_id) WHERE expires_at IS NOT NULL;
DROP INDEX records_expiry;
-- Website events expire by their time; the sweep walks them in this order (the index also
-- serves the queries by time that the index on `at` alone served).
CREATE INDEX events_expiry_walk ON events (at, subject_id, event_id);
DROP INDEX events_at;

-- Erasures a legal hold cut short: what the hold covers was kept (restricted); the sweep
-- finishes each once no hold in force covers the person's data any more.
CREATE TABLE held_erasures (
    subject_id UUID    NOT NULL PRIMARY KEY,
    since      BIGINT NOT NULL
);

-- The disclosure log (Art. 30(1)(d), 15(1)(c), 19): who received what, when, under which
-- safeguard. A disclosure outlives the people it names: their ids are random and their
-- data key is destroyed on erasure.
CREATE TABLE disclosures (
    disclosure_id UUID    NOT NULL PRIMARY KEY,
    recipient     TEXT    NOT NULL,
    country       TEXT    NOT NULL,
    safeguard     TEXT    NOT NULL,
    purpose       TEXT    NOT NULL,
    categories    TEXT    NOT NULL,
    actor         TEXT    NOT NULL,
    legal_request UUID,
    at            BIGINT NOT NULL
);
CREATE INDEX disclosures_at ON disclosures (at);
CREATE INDEX disclosures_legal_request ON disclosures (legal_request) WHERE legal_request IS NOT NULL;

CREATE TABLE disclosure_subjects (
    subject_id    UUID    NOT NULL,
    disclosure_id UUID    NOT NULL REFERENCES disclosures (disclosure_id),
    records       BIGINT NOT NULL,
    PRIMARY KEY (subject_id, disclosure_id)
);
CREATE INDEX disclosure_subjects_disclosure ON disclosure_subjects (disclosure_id);

-- Notices custos sends to organisations: Art. 19 notices to recipients, breach notices to
-- partners. Sent by mail when the addressee has a contact, otherwise recorded.
CREATE TABLE governance_notices (
    notice_id  UUID    NOT NULL PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('art19', 'breach_partner')),
    addressee  TEXT    NOT NULL,
    contact    TEXT,
    subject_id UUID,
    reference  UUID    NOT NULL,
    body       TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at    BIGINT,
    channel    TEXT CHECK (channel IN ('mail', 'recorded')),
    UNIQUE (kind, reference, addressee)
);
CREATE INDEX governance_notices_reference ON governance_notices (reference);

-- The breach register (Art. 33(5)): every breach, notified or not.
CREATE TABLE breaches (
    breach_id    UUID    NOT NULL PRIMARY KEY,
    detected_at  BIGINT NOT NULL,
    nature       TEXT    NOT NULL,
    categories   TEXT    NOT NULL,
    systems      TEXT    NOT NULL,
    measures     TEXT    NOT NULL,
    consequences TEXT    NOT NULL,
    keys_exposed BOOLEAN NOT NULL,
    window_start BIGINT NOT NULL,
    window_end   BIGINT NOT NULL,
    opened_by    TEXT    NOT NULL,
    created_at   BIGINT NOT NULL,
    notified_at  BIGINT,
    delay_reason TEXT,
    CHECK (window_start <= window_end)
);
CREATE INDEX breaches_detected ON breaches (detected_at);
CREATE INDEX audit_log_at ON audit_log (at) WHERE subject_id IS NOT NULL;

-- Requests from authorities to disclose personal data (seed 11).
CREATE TABLE legal_requests (
    request_id  UUID    NOT NULL PRIMARY KEY,
    authority   TEXT    NOT NULL,
    legal_basis TEXT    NOT NULL,
    scope       TEXT    NOT NULL,
    received_at BIGINT NOT NULL,
    decision    TEXT    NOT NULL CHECK (decision IN ('pending', 'granted', 'partly_granted', 'refused')),
    decided_by  TEXT,
    decided_at  BIGINT,
    reason      TEXT,
    recorded_by TEXT    NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX legal_requests_received ON legal_requests (received_at);
