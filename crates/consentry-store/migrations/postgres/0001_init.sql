-- Consentry schema v1 (PostgreSQL). Shipped migrations are never edited: add a new file.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    key_hash   BYTEA PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Identity data is only ever stored encrypted (identity, under the wrapped subject key);
-- email_index is a keyed blind index for de-duplication.
CREATE TABLE contacts (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL REFERENCES tenants (id),
    email_index        BYTEA NOT NULL,
    wrapped_key        BYTEA,
    identity           BYTEA,
    address_commitment TEXT NOT NULL,
    category           TEXT NOT NULL,
    attributes         TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    erased_at          BIGINT,
    UNIQUE (tenant_id, email_index)
);
CREATE INDEX contacts_by_tenant ON contacts (tenant_id, id);

CREATE TABLE consent_status (
    tenant_id   TEXT NOT NULL,
    subject_id  TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    status      TEXT NOT NULL,
    proof_id    TEXT,
    log_index   BIGINT,
    updated_at  BIGINT NOT NULL,
    valid_until BIGINT,
    PRIMARY KEY (tenant_id, subject_id, purpose)
);
CREATE INDEX consent_status_by_purpose ON consent_status (tenant_id, purpose, status);

CREATE TABLE proofs (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    subject_id  TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    decision    TEXT NOT NULL,
    log_index   BIGINT NOT NULL UNIQUE,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX proofs_by_subject ON proofs (tenant_id, subject_id, log_index);

-- The log: one head row (size and root of every durable entry), the entries, and the
-- C2SP tiles of stored hashes. Written together in one transaction per batch.
CREATE TABLE log_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL,
    root BYTEA NOT NULL
);
INSERT INTO log_head (id, size, root)
VALUES (1, 0, '\xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'::bytea);

CREATE TABLE log_entries (
    idx   BIGINT PRIMARY KEY,
    entry BYTEA NOT NULL
);

CREATE TABLE log_tiles (
    level  BIGINT NOT NULL,
    idx    BIGINT NOT NULL,
    hashes BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE checkpoints (
    size       BIGINT PRIMARY KEY,
    root       BYTEA NOT NULL,
    note       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
