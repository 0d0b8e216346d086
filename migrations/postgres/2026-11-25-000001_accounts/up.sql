-- Accounts of every role. Nothing personal in plaintext: the email is stored as a keyed hash
-- (for sign-in and uniqueness) and, with the display name, sealed under the account's data key.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('citizen', 'operator', 'regulator')),
    email_index TEXT NOT NULL UNIQUE,
    email_sealed BYTEA NOT NULL,
    display_name_sealed BYTEA NOT NULL,
    password_hash TEXT NOT NULL,
    dek_wrapped BYTEA NOT NULL,
    kek_version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Failed sign-ins per email index (known or not, so throttling does not reveal which exist).
CREATE TABLE login_failures (
    id TEXT PRIMARY KEY NOT NULL,
    email_index TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_by_email ON login_failures (email_index, failed_at);

-- Portal sessions; only a SHA-256 of the cookie value is stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account_id);
