-- Witness cosignatures (c2sp.org/tlog-cosignature) are added to a checkpoint's note as
-- its witnesses answer: the body and the log's signature stay as published, signature
-- lines are appended. `cosignatures` counts the valid ones collected, so that anchoring
-- can pick the latest checkpoint that reached the quorum.
ALTER TABLE checkpoints ADD COLUMN cosignatures INTEGER NOT NULL DEFAULT 0;
