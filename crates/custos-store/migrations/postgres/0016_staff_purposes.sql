-- The purposes a support agent works for: the gate lets them read and write personal data
-- for these purposes only (JSON list of purpose ids; other roles ignore it).
ALTER TABLE staff ADD COLUMN purposes TEXT NOT NULL DEFAULT '[]';
