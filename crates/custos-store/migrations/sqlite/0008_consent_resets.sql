-- When the terms of a consent purpose change with a new policy version, consents given
-- before no longer count for it: the person is asked again (seed 10).
CREATE TABLE consent_resets (
    purpose TEXT    NOT NULL PRIMARY KEY,
    since   INTEGER NOT NULL
);
