DROP INDEX sessions_by_account;
DROP TABLE sessions;
DROP INDEX login_failures_by_email;
DROP TABLE login_failures;
DROP TABLE accounts;
