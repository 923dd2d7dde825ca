-- The self-service portal: one-time sign-in links and the sessions they open.
-- Tokens and session IDs are 256-bit random values stored only as their SHA-256. The
-- subjects a sign-in reaches are kept as text, one "tenant_id subject_id" pseudonym pair
-- per line, found by the e-mail's blind index when the link was asked for: no address or
-- other personal data is stored here.
CREATE TABLE portal_logins (
    token_hash BYTEA PRIMARY KEY,
    subjects   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX portal_logins_by_expiry ON portal_logins (expires_at);

CREATE TABLE portal_sessions (
    id_hash    BYTEA PRIMARY KEY,
    subjects   TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX portal_sessions_by_expiry ON portal_sessions (expires_at);
