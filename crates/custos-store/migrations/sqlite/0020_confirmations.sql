-- Consents waiting for the person's confirmation by email (double opt-in): a form asked
-- for a direct-marketing consent, and nothing of it counts, nor is stored with the person,
-- until the link mailed to the address is used. What the form sent (name, address, the
-- purposes, the truncated source address) is sealed under a key of the vault; the row is
-- deleted when the link is used and is purged once expired.
CREATE TABLE confirmations (
    confirmation_id BLOB    NOT NULL PRIMARY KEY,
    sealed          BLOB    NOT NULL,
    created_at      INTEGER  NOT NULL,
    expires_at      INTEGER  NOT NULL
);
CREATE INDEX confirmations_expiry ON confirmations (expires_at);
