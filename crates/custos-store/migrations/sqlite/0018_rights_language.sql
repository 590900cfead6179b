-- The language a person made a rights request in (a BCP 47 primary tag such as `de`), so
-- that every mail about it speaks that language. Not personal data: a page's language.
ALTER TABLE rights_requests ADD COLUMN language TEXT;
