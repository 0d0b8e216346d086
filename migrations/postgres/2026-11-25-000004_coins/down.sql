DROP TABLE coin_breadth;
DROP INDEX coin_reservations_by_company;
DROP TABLE coin_reservations;
DROP INDEX coin_postings_by_account;
DROP TABLE coin_postings;
DROP TABLE coin_entries;
DROP TABLE coin_accounts;
DROP TABLE reward_policies;
