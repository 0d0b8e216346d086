-- Entrusted records. Only ids, the category name and timestamps are in the clear; the data is
-- AES-256-GCM under the citizen's data key, bound to citizen, record, category and version.
CREATE TABLE vault_records (
    id TEXT PRIMARY KEY NOT NULL,
    citizen_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    sealed BLOB NOT NULL,
    -- The category name for single-record categories, NULL for series: at most one per citizen.
    single_key TEXT,
    -- Keyed hash of (date, merchant, amount) for payment transactions, to refuse duplicates.
    dedup_key TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX vault_records_by_citizen ON vault_records (citizen_id, category, id);
CREATE UNIQUE INDEX vault_records_single ON vault_records (citizen_id, single_key) WHERE single_key IS NOT NULL;
CREATE UNIQUE INDEX vault_records_dedup ON vault_records (citizen_id, dedup_key) WHERE dedup_key IS NOT NULL;
