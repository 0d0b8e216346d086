-- The tamper-evident audit log (RFC 6962). See docs/audit.md.

-- One row; its tree_size is the next leaf index. Appenders update it first, which serialises
-- them (a row lock on PostgreSQL, the write lock on SQLite) so indices are unique and gap-free.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    tree_size BIGINT NOT NULL CHECK (tree_size >= 0)
);
INSERT INTO audit_head (id, tree_size) VALUES (1, 0);

-- The leaves: canonical JSON (ids and pseudonyms only) and its RFC 6962 leaf hash.
-- (SQLite: INTEGER PRIMARY KEY makes idx the rowid itself, so an append maintains one b-tree
-- for the table instead of two. It is 64-bit, as BIGINT is on PostgreSQL.)
CREATE TABLE audit_leaves (
    idx INTEGER PRIMARY KEY NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    action TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    company_id TEXT,
    leaf TEXT NOT NULL,
    leaf_hash BLOB NOT NULL
);
CREATE INDEX audit_leaves_by_action ON audit_leaves (action, idx);
-- Partial: most events concern no company and so cost this index nothing.
CREATE INDEX audit_leaves_by_company ON audit_leaves (company_id, idx) WHERE company_id IS NOT NULL;

-- Hashes of every complete subtree. The subtree of 2^level leaves ending at leaf last_leaf is
-- keyed (last_leaf, level): every node an append creates ends at the new leaf, so one append's
-- rows sit together at the end of the index. Level 0 repeats the leaf hashes on purpose: the tree
-- is kept apart from the leaves it commits to.
-- (SQLite: WITHOUT ROWID stores the rows in the primary key's b-tree, one b-tree instead of two.)
CREATE TABLE audit_nodes (
    last_leaf BIGINT NOT NULL,
    level INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (last_leaf, level)
) WITHOUT ROWID;

-- Signed tree heads, Ed25519 over the encoding in docs/audit.md.
CREATE TABLE audit_tree_heads (
    tree_size BIGINT PRIMARY KEY NOT NULL,
    root_hash BLOB NOT NULL,
    timestamp_ms BIGINT NOT NULL,
    signature BLOB NOT NULL,
    key_id TEXT NOT NULL
);

-- The last tree head each regulator acknowledged, to show consistency with today's.
CREATE TABLE regulator_checkpoints (
    account_id TEXT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tree_size BIGINT NOT NULL,
    root_hash BLOB NOT NULL,
    acknowledged_at TIMESTAMP NOT NULL
);
