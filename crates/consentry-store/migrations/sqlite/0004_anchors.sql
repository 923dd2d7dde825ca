-- Anchoring. A run anchors one signed checkpoint; it is claimed by its slot (the
-- scheduled local time it stands for, or a manual request), so that two processes on one
-- database never anchor the same slot twice.
CREATE TABLE anchor_runs (
    slot       TEXT PRIMARY KEY,
    size       INTEGER,
    note       TEXT,
    created_at INTEGER NOT NULL
);

-- One anchor of a checkpoint per backend kind. The intent (the signed transaction, the
-- time-stamp request) is stored before anything leaves the process, so a crash resumes
-- it instead of anchoring twice. States: prepared -> anchored -> (invalid, if a reorg
-- removes its block; a new prepared row then takes its place).
CREATE TABLE anchors (
    id         TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    note       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    state      TEXT NOT NULL,
    intent     TEXT NOT NULL,
    anchor     TEXT,
    detail     TEXT,
    attempts   INTEGER NOT NULL,
    next_at    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- At most one live anchor per checkpoint and kind.
CREATE UNIQUE INDEX anchors_live ON anchors (size, kind) WHERE state <> 'invalid';
CREATE INDEX anchors_state ON anchors (state, next_at);
