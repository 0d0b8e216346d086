#[derive(Debug, thiserror::Error)]
pub enum CoinsError {
    /// A citizen or company account would go below zero.
    #[error("the {account} account holds {balance} coins, {needed} are needed")]
    InsufficientBalance { account: String, balance: i64, needed: i64 },
    /// The company cannot reserve an offer's reward: it cannot take new consents for it.
    #[error("the company's coin account holds {balance}, the offer's reward is {needed}")]
    OfferNotFunded { balance: i64, needed: i64 },
    /// The same idempotency key was sent before with a different request.
    #[error("the idempotency key was already used for a different request")]
    IdempotencyConflict,
    #[error("invalid amount: {0}")]
    InvalidAmount(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("unbalanced journal entry: {0}")]
    Unbalanced(String),
    #[error("invalid reward policy: {0}")]
    InvalidPolicy(String),
    #[error("ledger storage is inconsistent: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Audit(#[from] infobank_audit::AuditError),
    #[error(transparent)]
    Database(#[from] infobank_db::diesel::result::Error),
}
