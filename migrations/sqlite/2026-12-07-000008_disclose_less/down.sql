DROP TABLE statistics_participants;
DROP TABLE statistics_runs;
ALTER TABLE disclosures DROP COLUMN answer_sealed;
ALTER TABLE disclosures DROP COLUMN kind;
DROP TABLE offer_asks;
