-- A subject's proofs are found through a chain rather than an index: each proof names the
-- previous proof of the same (tenant, subject, purpose), and the chain's head is
-- consent_status.log_index (set only by proofs, never lowered, never deleted once a proof
-- set it). The index proofs_by_subject, keyed by subject, dirtied one random B-tree page
-- per appended proof — about a fifth of the append's cost under load (docs/benchmarks.md);
-- the chain adds no page a proof does not already touch. (PostgreSQL keeps the index:
-- there the chain-head lookup, planned before the table had statistics, used the
-- purpose index and scanned a purpose's statuses for every proof.)
ALTER TABLE proofs ADD COLUMN prev_index INTEGER;

UPDATE proofs SET prev_index = (
    SELECT MAX(p.log_index) FROM proofs p
    WHERE p.tenant_id = proofs.tenant_id AND p.subject_id = proofs.subject_id
      AND p.purpose = proofs.purpose AND p.log_index < proofs.log_index
);

DROP INDEX proofs_by_subject;
