-- Webhooks: one URL per tenant; its signing secret is derived from the master key, never
-- stored. Deliveries are queued in the same transaction as the event they announce.
CREATE TABLE tenant_webhooks (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants (id),
    url        TEXT NOT NULL,
    version    INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    event      TEXT NOT NULL,
    status     TEXT NOT NULL,
    attempts   INTEGER NOT NULL,
    next_at    INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_at);
