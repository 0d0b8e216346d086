-- Partner companies, their offers, citizens' consents and every disclosure made under them.

-- A company's application and its vetting. Public facts only (legal name, corporate number,
-- a business contact); the client secret is stored as its SHA-256 (it has 256 bits of entropy).
CREATE TABLE companies (
    id TEXT PRIMARY KEY NOT NULL,
    legal_name TEXT NOT NULL,
    corporate_number TEXT NOT NULL UNIQUE,
    contact_email TEXT NOT NULL,
    privacy_policy_url TEXT NOT NULL,
    certification_kind TEXT NOT NULL CHECK (certification_kind IN ('ISMS', 'PMARK')),
    certification_id TEXT NOT NULL,
    certification_expires_on TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('applied', 'approved', 'rejected', 'suspended', 'revoked')),
    client_id TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX companies_by_status ON companies (status, created_at);

-- Every status change with its reason and who made it.
CREATE TABLE company_decisions (
    id TEXT PRIMARY KEY NOT NULL,
    company_id TEXT NOT NULL REFERENCES companies (id),
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at TIMESTAMP NOT NULL
);
CREATE INDEX company_decisions_by_company ON company_decisions (company_id, decided_at);

CREATE TABLE offers (
    id TEXT PRIMARY KEY NOT NULL,
    company_id TEXT NOT NULL REFERENCES companies (id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    purpose TEXT NOT NULL,
    -- JSON array of category names.
    categories TEXT NOT NULL,
    data_range_days INTEGER NOT NULL CHECK (data_range_days >= 1),
    access TEXT NOT NULL CHECK (access IN ('one_time', 'periodic')),
    max_fetches_per_day INTEGER NOT NULL CHECK (max_fetches_per_day >= 1),
    retention_days INTEGER NOT NULL CHECK (retention_days >= 1),
    consent_days INTEGER NOT NULL CHECK (consent_days BETWEEN 1 AND 365),
    reward_coins BIGINT NOT NULL CHECK (reward_coins >= 0),
    status TEXT NOT NULL CHECK (status IN ('pending_review', 'approved', 'rejected')),
    review_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    reviewed_at TIMESTAMP
);
CREATE INDEX offers_by_company ON offers (company_id, created_at);
CREATE INDEX offers_by_status ON offers (status, created_at);

-- A citizen's consent to one offer. `subject` is the citizen's pseudonym for this company.
CREATE TABLE consents (
    id TEXT PRIMARY KEY NOT NULL,
    citizen_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    company_id TEXT NOT NULL REFERENCES companies (id),
    offer_id TEXT NOT NULL REFERENCES offers (id),
    subject TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'revoked', 'expired')),
    granted_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    -- The latest receipt (a compact JWS); every change issues a new one.
    receipt TEXT NOT NULL,
    uses BIGINT NOT NULL,
    last_used_at TIMESTAMP,
    -- Fetches on `quota_day` (UTC, YYYY-MM-DD), for the offer's daily quota.
    quota_day TEXT,
    quota_used INTEGER NOT NULL,
    -- At most one live (active or paused) consent per citizen and offer.
    live_key TEXT UNIQUE
);
CREATE INDEX consents_by_citizen ON consents (citizen_id, granted_at);
CREATE INDEX consents_by_company ON consents (company_id, granted_at);

-- Every disclosure: who received which categories of whose data (by pseudonym), when.
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
