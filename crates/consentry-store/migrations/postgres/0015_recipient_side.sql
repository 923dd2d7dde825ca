-- What a recipient is shown about who asks and for what (issue 16, item 5).
--
-- A purpose's description is written for the person asked, per language: the existing
-- `description` column is the French one (French is the service's primary language, and
-- the app's form always asked for the text a recipient reads), `description_en` the
-- English one. Either may be empty, not both (the app and the API check it); a recipient
-- sees their language's, else the other's, else the purpose's name.
ALTER TABLE purposes ADD COLUMN description_en TEXT NOT NULL DEFAULT '';

-- The sender's contact for recipients: an e-mail address or an https URL of the
-- organisation (its privacy desk, its data protection officer's role address). It is the
-- organisation's published contact, shown on every e-mail and answer page — not a
-- person's data; the docs say so and the forms ask for a role address.
ALTER TABLE tenants ADD COLUMN contact TEXT;

-- Links a resend replaced: the SHA-256 of the old token (never the token) and its
-- request, so that an old e-mail's link says "replaced by a newer e-mail" rather than
-- "matches no request". Written in the resend's transaction.
CREATE TABLE superseded_links (
    token_hash    BYTEA PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    superseded_at BIGINT NOT NULL
);
