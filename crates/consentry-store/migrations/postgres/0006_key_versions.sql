-- Master key versions (docs/operations.md, "Keys"). Shipped migrations are never edited.
--
-- Every master key a deployment has used gets a version, named here by its check value
-- (HKDF of the key, which reveals nothing of it): the process that holds the keys matches
-- its key files against this table, so a wrong key is refused instead of silently writing
-- rows nobody can read. One version is 'current' (new rows), at most one 'next' (announced,
-- loaded by every service, not yet used) and one 'previous' (rows still being re-wrapped
-- away from it); the others are 'retired'. The table is filled on first start: the key in
-- use then becomes version 1.
CREATE TABLE vault_keys (
    version    BIGINT PRIMARY KEY,
    key_check  BYTEA NOT NULL UNIQUE,
    state      TEXT NOT NULL CHECK (state IN ('current', 'next', 'previous', 'retired')),
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
CREATE UNIQUE INDEX vault_keys_one_per_live_state ON vault_keys (state) WHERE state <> 'retired';

-- The master key version a contact's wrapped key and e-mail blind index are under. Rows
-- written before versions existed are under the deployment's first key, version 1.
ALTER TABLE contacts ADD COLUMN key_version BIGINT NOT NULL DEFAULT 1;
CREATE INDEX contacts_by_key_version ON contacts (key_version, id);
