DROP INDEX vault_records_dedup;
DROP INDEX vault_records_single;
DROP INDEX vault_records_by_citizen;
DROP TABLE vault_records;
