-- Events about subjects' identity data (reveals, refused reveals, amendments, erasures).
-- The sealed event is the log entry (log_entries.entry at log_index); this table indexes
-- it for a subject's access history and for lookup by ID. It holds no personal data.
CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    subject_id  TEXT NOT NULL,
    type        TEXT NOT NULL,
    purpose     TEXT,
    log_index   BIGINT NOT NULL UNIQUE,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX events_by_subject ON events (tenant_id, subject_id, log_index);
