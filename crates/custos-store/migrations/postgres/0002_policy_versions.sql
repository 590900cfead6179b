-- Every version of the privacy policy ever put in force, by content hash.
CREATE TABLE policy_versions (
    hash          TEXT    NOT NULL PRIMARY KEY,
    label         TEXT    NOT NULL,
    effective     TEXT    NOT NULL,
    canonical     TEXT    NOT NULL,
    first_seen_at BIGINT  NOT NULL
);
CREATE INDEX policy_versions_seen ON policy_versions (first_seen_at);
