-- No query reads the audit log by person: it is read in chain order (verification, export)
-- and by time (a breach's window, through audit_log_at). audit_log_subject was one more
-- B-tree updated at a random place on every entry appended.
DROP INDEX IF EXISTS audit_log_subject;
