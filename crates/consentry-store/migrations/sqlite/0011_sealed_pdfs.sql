-- Sealed PDFs are made once and kept: a PAdES seal is a signature at a moment (and a
-- time-stamp, when the TSA answered), not something to redo at every download. A PDF is
-- the reading of one sealed JSON document (a proof, or a certificate of it) in one
-- language, so that document's SHA-256 and the language name it. Proof and certificate
-- pages carry pseudonyms only, never identity data (disclosure PDFs, which name the
-- person, are never kept). stamped_at is NULL while the seal is PAdES B-B (the TSA was
-- down when it was made); the upgrade to B-T sets it.
CREATE TABLE sealed_pdfs (
    document_hash BLOB NOT NULL,
    language      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    tenant_id     TEXT NOT NULL,
    pdf           BLOB NOT NULL,
    created_at    BIGINT NOT NULL,
    stamped_at    BIGINT,
    PRIMARY KEY (document_hash, language, kind)
);

CREATE INDEX sealed_pdfs_unstamped ON sealed_pdfs (created_at) WHERE stamped_at IS NULL;
