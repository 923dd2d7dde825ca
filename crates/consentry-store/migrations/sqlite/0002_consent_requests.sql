-- Delegated consent requests. The link token is never stored: only its SHA-256.
-- The notice text is the sender's, not personal data; the recipient's address is read
-- from the vault when the e-mail is sent, so no address is ever queued in clear.
CREATE TABLE consent_requests (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    subject_id     TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    token_hash     BLOB NOT NULL UNIQUE,
    notice_text    TEXT NOT NULL,
    notice_sha256  TEXT NOT NULL,
    notice_version TEXT,
    notice_url     TEXT,
    language       TEXT NOT NULL,
    valid_days     INTEGER,
    status         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    answered_at    INTEGER,
    proof_id       TEXT,
    mail_status    TEXT NOT NULL,
    mail_attempts  INTEGER NOT NULL,
    mail_next_at   INTEGER NOT NULL,
    mail_error     TEXT
);
CREATE INDEX consent_requests_mail ON consent_requests (mail_status, mail_next_at);
CREATE INDEX consent_requests_expiry ON consent_requests (status, expires_at);
CREATE INDEX consent_requests_subject ON consent_requests (tenant_id, subject_id);
