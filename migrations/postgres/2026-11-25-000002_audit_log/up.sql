-- The tamper-evident audit log (RFC 6962). See docs/audit.md.

-- One row; its tree_size is the next leaf index. Appenders update it first, which serialises
-- them (a row lock on PostgreSQL, the write lock on SQLite) so indices are unique and gap-free.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    tree_size BIGINT NOT NULL CHECK (tree_size >= 0)
);
INSERT INTO audit_head (id, tree_size) VALUES (1, 0);

-- The leaves: canonical JSON (ids and pseudonyms only) and its RFC 6962 leaf hash.
CREATE TABLE audit_leaves (
    idx BIGINT PRIMARY KEY NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    action TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    company_id TEXT,
    leaf TEXT NOT NULL,
    leaf_hash BYTEA NOT NULL
);
CREATE INDEX audit_leaves_by_action ON audit_leaves (action, idx);
CREATE INDEX audit_leaves_by_company ON audit_leaves (company_id, idx);

-- Hashes of every complete subtree: node (level, idx) covers leaves [idx * 2^level, (idx + 1) * 2^level).
CREATE TABLE audit_nodes (
    level INTEGER NOT NULL,
    idx BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Signed tree heads, Ed25519 over the encoding in docs/audit.md.
CREATE TABLE audit_tree_heads (
    tree_size BIGINT PRIMARY KEY NOT NULL,
    root_hash BYTEA NOT NULL,
    timestamp_ms BIGINT NOT NULL,
    signature BYTEA NOT NULL,
    key_id TEXT NOT NULL
);

-- The last tree head each regulator acknowledged, to show consistency with today's.
CREATE TABLE regulator_checkpoints (
    account_id TEXT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tree_size BIGINT NOT NULL,
    root_hash BYTEA NOT NULL,
    acknowledged_at TIMESTAMP NOT NULL
);
