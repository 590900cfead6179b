-- The ledger's per-person, per-purpose lookups are served by consents_by_purpose
-- (purpose, subject_id, seq) and its per-person scans by the primary key
-- (subject_id, seq): consents_purpose held the same columns a third time, one more B-tree
-- to update on every consent written.
DROP INDEX IF EXISTS consents_purpose;
