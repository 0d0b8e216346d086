-- The coin ledger: double-entry bookkeeping in whole coins (integers only).

-- Every version of the published reward policy; payouts name the version they were paid under,
-- so a change of parameters never alters a past payout.
CREATE TABLE reward_policies (
    version INTEGER PRIMARY KEY NOT NULL CHECK (version >= 1),
    params TEXT NOT NULL,
    published_at TIMESTAMP NOT NULL
);

-- One row per ledger account: a citizen's wallet ('citizen:<id>'), a company's funding account
-- ('company:<id>') and its escrow of reserved offer rewards ('escrow:<id>'), the bank's issuance
-- account ('bank:issuance', the only one allowed below zero) and the redemption account.
-- `balance` is maintained with every posting so that a balance read is one row.
CREATE TABLE coin_accounts (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('citizen', 'company', 'escrow', 'issuance', 'redemption')),
    owner_id TEXT,
    balance BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CHECK (kind = 'issuance' OR balance >= 0)
);

-- A journal entry: why coins moved, what for, under which policy and inputs, and the audit
-- leaves of the event it pays for and of the entry itself.
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

-- Two or more postings per entry, summing to zero; `balance_after` is the account's balance
-- once this posting was applied.
CREATE TABLE coin_postings (
    entry_id TEXT NOT NULL REFERENCES coin_entries (id),
    account_id TEXT NOT NULL REFERENCES coin_accounts (id),
    amount BIGINT NOT NULL CHECK (amount <> 0),
    balance_after BIGINT NOT NULL,
    PRIMARY KEY (entry_id, account_id)
);
CREATE INDEX coin_postings_by_account ON coin_postings (account_id, entry_id);

-- Offer rewards held in escrow for a consent until its first disclosure (paid) or its end
-- without one (released).
CREATE TABLE coin_reservations (
    consent_id TEXT PRIMARY KEY NOT NULL,
    company_id TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    status TEXT NOT NULL CHECK (status IN ('held', 'paid', 'released')),
    created_at TIMESTAMP NOT NULL,
    settled_at TIMESTAMP
);
CREATE INDEX coin_reservations_by_company ON coin_reservations (company_id, status, created_at);

-- The distinct companies that received a citizen's data in a calendar month (the breadth bonus).
CREATE TABLE coin_breadth (
    citizen_id TEXT NOT NULL,
    month TEXT NOT NULL,
    company_id TEXT NOT NULL,
    PRIMARY KEY (citizen_id, month, company_id)
);
