-- Only before any leaf was queued without an index: queued leaves would be lost.
ALTER TABLE coin_entries ADD COLUMN event_index BIGINT;
ALTER TABLE coin_entries ADD COLUMN audit_index BIGINT;
UPDATE coin_entries SET
    audit_index = (SELECT idx FROM audit_leaves WHERE audit_leaves.leaf_hash = coin_entries.audit_leaf_hash),
    event_index = (SELECT idx FROM audit_leaves WHERE audit_leaves.leaf_hash = coin_entries.event_leaf_hash);
ALTER TABLE coin_entries ALTER COLUMN audit_index SET NOT NULL;
ALTER TABLE coin_entries DROP COLUMN event_leaf_hash;
ALTER TABLE coin_entries DROP COLUMN audit_leaf_hash;

ALTER TABLE disclosures ADD COLUMN audit_index BIGINT;
UPDATE disclosures SET audit_index =
    (SELECT idx FROM audit_leaves WHERE audit_leaves.leaf_hash = disclosures.audit_leaf_hash);
ALTER TABLE disclosures ALTER COLUMN audit_index SET NOT NULL;
ALTER TABLE disclosures DROP COLUMN audit_leaf_hash;

DROP INDEX audit_leaves_by_hash;
DROP TABLE audit_queue;
