-- A citizen's "not for me" (issue 16): the offer leaves her inbox until she undoes it. One row
-- per citizen and offer; deciding again changes nothing. Each decline and undo is an audit leaf
-- (offer.declined, offer.decline_undone). Gone with the account.
CREATE TABLE offer_declines (
    citizen_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    offer_id TEXT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    declined_at TIMESTAMP NOT NULL,
    PRIMARY KEY (citizen_id, offer_id)
);
