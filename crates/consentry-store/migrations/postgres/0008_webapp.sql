-- The sender's web application: staff users and their sessions, the purposes and
-- versioned notices a sender manages, and evidence files attached to manual consents.
--
-- Staff e-mail addresses are personal data: a user row keeps only a keyed blind index of
-- the normalised address (the sign-in looks it up), never the address. Passwords are
-- Argon2id PHC strings. Session IDs are stored as their SHA-256.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    login_index   BYTEA NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);
CREATE INDEX users_by_tenant ON users (tenant_id, id);

CREATE TABLE staff_sessions (
    id_hash    BYTEA PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    tenant_id  TEXT NOT NULL,
    role       TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX staff_sessions_by_expiry ON staff_sessions (expires_at);

-- What a sender asks consent for. The API still takes any purpose name; the web app
-- offers the ones defined here, with their description and default validity.
CREATE TABLE purposes (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    valid_days  BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- Notice texts, versioned per purpose and language: a version is never edited, a change
-- is a new version. A request records the SHA-256 of the exact text it showed.
CREATE TABLE notices (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    purpose    TEXT NOT NULL,
    language   TEXT NOT NULL,
    version    BIGINT NOT NULL,
    body       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, purpose, language, version)
);

-- A file given as evidence of a manual consent: sealed under the subject's data key (so
-- an erasure shreds it with the rest), with the keyed commitment the proof carries.
CREATE TABLE evidence_files (
    proof_id   TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size       BIGINT NOT NULL,
    commitment TEXT NOT NULL,
    sealed     BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX evidence_files_by_subject ON evidence_files (tenant_id, subject_id);

