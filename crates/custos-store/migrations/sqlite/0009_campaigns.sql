-- Marketing campaigns (seed 9): the words and the purpose; no personal data.
CREATE TABLE campaigns (
    campaign_id  BLOB    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    purpose      TEXT    NOT NULL,
    subject_line TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    queued_at    INTEGER
) WITHOUT ROWID;
CREATE INDEX campaigns_recent ON campaigns (created_at, campaign_id);

-- Who was sent a campaign, written once the mail server accepted the message: a retried
-- or repeated job never mails a person twice. Erasing the person erases their rows.
CREATE TABLE campaign_deliveries (
    campaign_id BLOB    NOT NULL REFERENCES campaigns (campaign_id),
    subject_id  BLOB    NOT NULL REFERENCES subjects (subject_id) ON DELETE CASCADE,
    sent_at     INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, subject_id)
) WITHOUT ROWID;

-- A purpose's audience is read by purpose.
CREATE INDEX consents_by_purpose ON consents (purpose, subject_id, seq);
