-- Website analytics (seed 2.2).
-- With analytics consent, events belong to a visitor subject; the address is sealed.
CREATE TABLE events (
    subject_id  BLOB    NOT NULL REFERENCES subjects (subject_id) ON DELETE CASCADE,
    event_id    BLOB    NOT NULL,
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    referrer    TEXT,
    entry       INTEGER NOT NULL,
    duration_ms INTEGER,
    sealed_ip   BLOB,
    country     TEXT,
    browser     TEXT,
    os          TEXT,
    device      TEXT,
    PRIMARY KEY (subject_id, event_id)
) WITHOUT ROWID;
CREATE INDEX events_at ON events (at);

-- Without consent: no address and no id, only a hash of a daily salt, the site, the
-- address and the user agent, which cannot follow anyone past the salt's day.
CREATE TABLE anonymous_events (
    visitor_hash BLOB    NOT NULL,
    event_id     BLOB    NOT NULL,
    at           INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    path         TEXT    NOT NULL,
    referrer     TEXT,
    entry        INTEGER NOT NULL,
    duration_ms  INTEGER,
    country      TEXT,
    browser      TEXT,
    os           TEXT,
    device       TEXT,
    PRIMARY KEY (visitor_hash, event_id)
) WITHOUT ROWID;
CREATE INDEX anonymous_events_at ON anonymous_events (at);

-- The daily salts, destroyed after 48 hours.
CREATE TABLE analytics_salts (
    day        TEXT    NOT NULL PRIMARY KEY,
    salt       BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);
