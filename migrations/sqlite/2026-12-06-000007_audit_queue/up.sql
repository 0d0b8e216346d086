-- The write path of the audit log (docs/audit.md, "Queue and sequencer"). A domain write queues
-- its leaf here, in its own transaction, and takes no lock shared with other writes; the
-- sequencer moves queued leaves into audit_leaves in batches, gives them consecutive indices and
-- deletes them from the queue in the same transaction. `id` orders the queue, nothing more.
CREATE TABLE audit_queue (
    id INTEGER PRIMARY KEY NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    action TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    company_id TEXT,
    leaf TEXT NOT NULL,
    leaf_hash BLOB NOT NULL UNIQUE
);

-- A leaf is named by its hash (it carries a random nonce, so two equal events differ).
CREATE UNIQUE INDEX audit_leaves_by_hash ON audit_leaves (leaf_hash);

-- What referred to a leaf by index now refers to it by hash: an index exists only once the
-- sequencer has run. (SQLite adds a NOT NULL column only with a default; every row is filled
-- from its leaf before the index column goes.)
ALTER TABLE disclosures ADD COLUMN audit_leaf_hash BLOB NOT NULL DEFAULT X'';
UPDATE disclosures SET audit_leaf_hash =
    (SELECT leaf_hash FROM audit_leaves WHERE audit_leaves.idx = disclosures.audit_index);
ALTER TABLE disclosures DROP COLUMN audit_index;

ALTER TABLE coin_entries ADD COLUMN audit_leaf_hash BLOB NOT NULL DEFAULT X'';
ALTER TABLE coin_entries ADD COLUMN event_leaf_hash BLOB;
UPDATE coin_entries SET
    audit_leaf_hash = (SELECT leaf_hash FROM audit_leaves WHERE audit_leaves.idx = coin_entries.audit_index),
    event_leaf_hash = (SELECT leaf_hash FROM audit_leaves WHERE audit_leaves.idx = coin_entries.event_index);
ALTER TABLE coin_entries DROP COLUMN audit_index;
ALTER TABLE coin_entries DROP COLUMN event_index;
