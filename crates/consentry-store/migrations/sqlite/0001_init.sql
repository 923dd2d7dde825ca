-- Consentry schema v1 (SQLite). Shipped migrations are never edited: add a new file.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    key_hash   BLOB PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

-- Identity data is only ever stored encrypted (identity, under the wrapped subject key);
-- email_index is a keyed blind index for de-duplication.
CREATE TABLE contacts (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL REFERENCES tenants (id),
    email_index        BLOB NOT NULL,
    wrapped_key        BLOB,
    identity           BLOB,
    address_commitment TEXT NOT NULL,
    category           TEXT NOT NULL,
    attributes         TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    erased_at          INTEGER,
    UNIQUE (tenant_id, email_index)
);
CREATE INDEX contacts_by_tenant ON contacts (tenant_id, id);

CREATE TABLE consent_status (
    tenant_id   TEXT NOT NULL,
    subject_id  TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    status      TEXT NOT NULL,
    proof_id    TEXT,
    log_index   INTEGER,
    updated_at  INTEGER NOT NULL,
    valid_until INTEGER,
    PRIMARY KEY (tenant_id, subject_id, purpose)
);
CREATE INDEX consent_status_by_purpose ON consent_status (tenant_id, purpose, status);

CREATE TABLE proofs (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    subject_id  TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    decision    TEXT NOT NULL,
    log_index   INTEGER NOT NULL UNIQUE,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX proofs_by_subject ON proofs (tenant_id, subject_id, log_index);

-- The log: one head row (size and root of every durable entry), the entries, and the
-- C2SP tiles of stored hashes. Written together in one transaction per batch.
CREATE TABLE log_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL,
    root BLOB NOT NULL
);
INSERT INTO log_head (id, size, root)
VALUES (1, 0, X'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');

CREATE TABLE log_entries (
    idx   INTEGER PRIMARY KEY,
    entry BLOB NOT NULL
);

CREATE TABLE log_tiles (
    level  INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    hashes BLOB NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE checkpoints (
    size       INTEGER PRIMARY KEY,
    root       BLOB NOT NULL,
    note       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
