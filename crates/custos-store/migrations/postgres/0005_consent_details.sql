-- What the person saw when choosing, and where from (the address truncated: IPv4 to /24,
-- IPv6 to /48), for proof of consent.
ALTER TABLE consents ADD COLUMN text_version TEXT NOT NULL DEFAULT '';
ALTER TABLE consents ADD COLUMN source_ip TEXT;
