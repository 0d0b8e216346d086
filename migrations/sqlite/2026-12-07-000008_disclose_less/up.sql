-- Disclosing less (docs/compliance.md, "Data minimisation"). An offer asks for `records` (today's
-- behaviour: no row here), `predicates` (yes/no answers computed in the vault) or `statistics`
-- (k-anonymous cells over the consenting citizens). `spec` holds the predicates or the statistics
-- asked for, as JSON; `offers.categories` stays the list of categories the offer reads, whatever
-- its kind. (A table of its own: `offers` is at diesel's 16-column limit.)
CREATE TABLE offer_asks (
    offer_id TEXT PRIMARY KEY NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('predicates', 'statistics')),
    spec TEXT NOT NULL
);

-- A predicate answer is a disclosure too. Its values are personal: they are sealed with the
-- citizen's data key (like a vault record), so that she can read them in her history and the
-- database holds no plaintext answer.
ALTER TABLE disclosures ADD COLUMN kind TEXT NOT NULL DEFAULT 'records';
ALTER TABLE disclosures ADD COLUMN answer_sealed BLOB;

-- One run of a statistics offer: counts only, never a value of a cell that was not released.
-- `participants_root` is the RFC 6962 Merkle root over the participants' pseudonyms (sorted), so
-- that a citizen can check with her pseudonym and an inclusion proof that she was counted.
CREATE TABLE statistics_runs (
    id TEXT PRIMARY KEY NOT NULL,
    offer_id TEXT NOT NULL REFERENCES offers (id),
    company_id TEXT NOT NULL REFERENCES companies (id),
    ran_at TIMESTAMP NOT NULL,
    -- The dimensions the run was cut by (`prefecture,month`): the overlap rule refuses counting
    -- the same people again by other dimensions.
    dimensions TEXT NOT NULL,
    participants INTEGER NOT NULL,
    released_cells INTEGER NOT NULL,
    suppressed_cells INTEGER NOT NULL,
    k INTEGER NOT NULL,
    participants_root BLOB NOT NULL,
    audit_leaf_hash BLOB NOT NULL
);
CREATE INDEX statistics_runs_by_company ON statistics_runs (company_id, ran_at);
CREATE INDEX statistics_runs_by_offer ON statistics_runs (offer_id, ran_at);

-- Who was counted in a run, in the order of the Merkle tree's leaves: the pseudonyms are what the
-- run's root commits to and what the differencing defence compares with every earlier run of the
-- same company. A deleted account leaves its pseudonym here (it names no one any more) and loses
-- the link to itself, so that the other participants' proofs still verify and a later run is
-- still compared with the set that was really counted.
CREATE TABLE statistics_participants (
    run_id TEXT NOT NULL REFERENCES statistics_runs (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    consent_id TEXT REFERENCES consents (id) ON DELETE SET NULL,
    citizen_id TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    subject TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX statistics_participants_by_citizen ON statistics_participants (citizen_id, run_id);
