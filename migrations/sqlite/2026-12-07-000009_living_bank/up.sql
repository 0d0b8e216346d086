-- What the bank tells a citizen on its own (docs/operations.md, "Reminders"): a consent that
-- ends within 14 days, a company she consented to that was suspended or revoked, and the
-- reminder every 90 days of a consent still running (CDR rule 4.20). One row per reason and
-- occasion: `occasion` makes the background task idempotent (the day the consent ends, the time
-- of the company's decision, `period-N` for the N-th 90 days). Nothing personal: ids, a kind,
-- times.
CREATE TABLE citizen_notices (
    id TEXT PRIMARY KEY NOT NULL,
    citizen_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    consent_id TEXT NOT NULL REFERENCES consents (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('consent_expiring', 'company_suspended', 'company_revoked', 'consent_review')),
    occasion TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP,
    UNIQUE (consent_id, kind, occasion)
);
CREATE INDEX citizen_notices_by_citizen ON citizen_notices (citizen_id, created_at);

-- Refused disclosure attempts, counted per company, month and reason (the stable problem code:
-- consent_revoked, quota_exceeded, not_found …). A refusal writes no audit leaf (nothing was
-- disclosed, and a company probing ids must not be able to grow the log); the regulator's
-- dashboard reads these counters beside the log.
CREATE TABLE disclosure_refusals (
    company_id TEXT NOT NULL REFERENCES companies (id),
    month TEXT NOT NULL,
    reason TEXT NOT NULL,
    refusals BIGINT NOT NULL,
    PRIMARY KEY (company_id, month, reason)
);
