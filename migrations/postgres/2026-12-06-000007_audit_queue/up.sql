-- The write path of the audit log (docs/audit.md, "Queue and sequencer"). A domain write queues
-- its leaf here, in its own transaction, and takes no lock shared with other writes; the
-- sequencer claims queued leaves (FOR UPDATE SKIP LOCKED), moves them into audit_leaves in
-- batches with consecutive indices and deletes them in the same transaction. `id` orders the
-- queue, nothing more: an id that commits late is sequenced in the next batch.
CREATE TABLE audit_queue (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    action TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    company_id TEXT,
    leaf TEXT NOT NULL,
    leaf_hash BYTEA NOT NULL UNIQUE
);

-- A leaf is named by its hash (it carries a random nonce, so two equal events differ).
CREATE UNIQUE INDEX audit_leaves_by_hash ON audit_leaves (leaf_hash);

-- What referred to a leaf by index now refers to it by hash: an index exists only once the
-- sequencer has run.
ALTER TABLE disclosures ADD COLUMN audit_leaf_hash BYTEA;
UPDATE disclosures SET audit_leaf_hash =
    (SELECT leaf_hash FROM audit_leaves WHERE audit_leaves.idx = disclosures.audit_index);
ALTER TABLE disclosures ALTER COLUMN audit_leaf_hash SET NOT NULL;
ALTER TABLE disclosures DROP COLUMN audit_index;

ALTER TABLE coin_entries ADD COLUMN audit_leaf_hash BYTEA;
ALTER TABLE coin_entries ADD COLUMN event_leaf_hash BYTEA;
UPDATE coin_entries SET
    audit_leaf_hash = (SELECT leaf_hash FROM audit_leaves WHERE audit_leaves.idx = coin_entries.audit_index),
    event_leaf_hash = (SELECT leaf_hash FROM audit_leaves WHERE audit_leaves.idx = coin_entries.event_index);
ALTER TABLE coin_entries ALTER COLUMN audit_leaf_hash SET NOT NULL;
ALTER TABLE coin_entries DROP COLUMN audit_index;
ALTER TABLE coin_entries DROP COLUMN event_index;
