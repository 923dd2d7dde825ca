-- Staff sign-in addresses are unique per tenant, no longer across the service: a tenant's
-- admin adding an address that is staff in another tenant must succeed exactly as any
-- other, or the answer would tell them the address is staff elsewhere. The sign-in names
-- its tenant (docs/webapp.md), so (tenant_id, login_index) is what identifies a user.
--
-- SQLite cannot drop a column's UNIQUE constraint: the table is rebuilt, and with it
-- staff_sessions (whose foreign key names users), in this migration's transaction with
-- foreign keys on. The new tables are made first and the old ones dropped child first,
-- so no step leaves a dangling reference; renaming users_new to users rewrites
-- staff_sessions_new's reference to it.
CREATE TABLE users_new (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    login_index   BLOB NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER,
    UNIQUE (tenant_id, login_index)
);
INSERT INTO users_new (id, tenant_id, login_index, role, password_hash, created_at, disabled_at)
    SELECT id, tenant_id, login_index, role, password_hash, created_at, disabled_at FROM users;

CREATE TABLE staff_sessions_new (
    id_hash    BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users_new (id),
    tenant_id  TEXT NOT NULL,
    role       TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
INSERT INTO staff_sessions_new (id_hash, user_id, tenant_id, role, csrf, created_at, expires_at)
    SELECT id_hash, user_id, tenant_id, role, csrf, created_at, expires_at FROM staff_sessions;

DROP TABLE staff_sessions;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
ALTER TABLE staff_sessions_new RENAME TO staff_sessions;
CREATE INDEX users_by_tenant ON users (tenant_id, id);
CREATE INDEX staff_sessions_by_expiry ON staff_sessions (expires_at);
