-- Time-based one-time passwords (RFC 6238) for console sign-in: the secret sealed under the
-- member's own data key, the one being set up until its first code is entered, and the
-- last time step used, so that no code works twice.
ALTER TABLE staff ADD COLUMN totp_sealed BYTEA;
ALTER TABLE staff ADD COLUMN totp_pending BYTEA;
ALTER TABLE staff ADD COLUMN totp_last_step BIGINT;
