-- One row per submission of the web application's request form (issue 16, item 2): what
-- was sent and who was not asked, with why, so that the result page has a stable URL
-- (/app/requests/batch/{id}) that survives a reload. Holds pseudonyms and request IDs,
-- never identity data.
CREATE TABLE request_batches (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    created_at     BIGINT NOT NULL,
    purpose        TEXT NOT NULL,
    notice_version TEXT,
    language       TEXT NOT NULL,
    -- JSON array of the request IDs created.
    created        TEXT NOT NULL,
    -- JSON array of [pseudonym as given, reason code, changed since the preview].
    skipped        TEXT NOT NULL
);
CREATE INDEX request_batches_tenant ON request_batches (tenant_id, created_at);
