-- Website analytics (seed 2.2).
-- With analytics consent, events belong to a visitor subject; the address is sealed.
CREATE TABLE events (
    subject_id  UUID    NOT NULL REFERENCES subjects (subject_id) ON DELETE CASCADE,
    event_id    UUID    NOT NULL,
    at          BIGINT  NOT NULL,
    kind        TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    referrer    TEXT,
    entry       BOOLEAN NOT NULL,
    duration_ms BIGINT,
    sealed_ip   BYTEA,
    country     TEXT,
    browser     TEXT,
    os          TEXT,
    device      TEXT,
    PRIMARY KEY (subject_id, event_id)
);
CREATE INDEX events_at ON events (at);

-- Without consent: no address and no id, only a hash of a daily salt, the site, the
-- address and the user agent, which cannot follow anyone past the salt's day.
CREATE TABLE anonymous_events (
    visitor_hash BYTEA    NOT NULL,
    event_id     UUID    NOT NULL,
    at           BIGINT  NOT NULL,
    kind         TEXT    NOT NULL,
    path         TEXT    NOT NULL,
    referrer     TEXT,
    entry        BOOLEAN NOT NULL,
    duration_ms  BIGINT,
    country      TEXT,
    browser      TEXT,
    os           TEXT,
    device       TEXT,
    PRIMARY KEY (visitor_hash, event_id)
);
CREATE INDEX anonymous_events_at ON anonymous_events (at);

-- The daily salts, destroyed after 48 hours.
CREATE TABLE analytics_salts (
    day        TEXT    NOT NULL PRIMARY KEY,
    salt       BYTEA    NOT NULL,
    created_at BIGINT  NOT NULL
);
