-- Only before any leaf was queued without an index: queued leaves would be lost. SQLite cannot
-- drop NOT NULL columns' defaults or reorder columns, so both tables are rebuilt as they were;
-- coin_postings refers to coin_entries, hence the deferred foreign keys (checked at commit,
-- when every entry is back).
PRAGMA defer_foreign_keys = ON;

CREATE TABLE coin_entries_down AS SELECT id, idempotency_key, reason, ref_kind, ref_id, policy_version, inputs,
    (SELECT idx FROM audit_leaves WHERE audit_leaves.leaf_hash = coin_entries.event_leaf_hash) AS event_index,
    (SELECT idx FROM audit_leaves WHERE audit_leaves.leaf_hash = coin_entries.audit_leaf_hash) AS audit_index,
    created_at
    FROM coin_entries;
DROP TABLE coin_entries;
CREATE TABLE coin_entries (
    id TEXT PRIMARY KEY NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    reason TEXT NOT NULL,
    ref_kind TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    policy_version INTEGER REFERENCES reward_policies (version),
    inputs TEXT NOT NULL,
    event_index BIGINT,
    audit_index BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO coin_entries SELECT * FROM coin_entries_down;
DROP TABLE coin_entries_down;

CREATE TABLE disclosures_down AS SELECT id, consent_id, citizen_id, company_id, categories, record_count,
    (SELECT idx FROM audit_leaves WHERE audit_leaves.leaf_hash = disclosures.audit_leaf_hash) AS audit_index,
    disclosed_at
    FROM disclosures;
DROP TABLE disclosures;
CREATE TABLE disclosures (
    id TEXT PRIMARY KEY NOT NULL,
    consent_id TEXT NOT NULL REFERENCES consents (id) ON DELETE CASCADE,
    citizen_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    company_id TEXT NOT NULL REFERENCES companies (id),
    categories TEXT NOT NULL,
    record_count INTEGER NOT NULL,
    audit_index BIGINT NOT NULL,
    disclosed_at TIMESTAMP NOT NULL
);
CREATE INDEX disclosures_by_citizen ON disclosures (citizen_id, disclosed_at);
CREATE INDEX disclosures_by_consent ON disclosures (consent_id, disclosed_at);
INSERT INTO disclosures SELECT * FROM disclosures_down;
DROP TABLE disclosures_down;

DROP INDEX audit_leaves_by_hash;
DROP TABLE audit_queue;
