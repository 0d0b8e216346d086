use crate::validate::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("unknown category {0}")]
    UnknownCategory(String),
    #[error("invalid data")]
    Invalid(Vec<FieldError>),
    /// Another citizen's record answers the same as a missing one: no existence oracle.
    #[error("record not found")]
    NotFound,
    #[error("a {0} record already exists; update it instead")]
    SingleRecordExists(String),
    #[error("this payment (same date, merchant and amount) is already in the vault")]
    DuplicateTransaction,
    #[error("{0} cannot be imported in bulk")]
    NotImportable(String),
    #[error("the import is unreadable: {0}")]
    MalformedImport(String),
    #[error("stored record does not open: {0}")]
    Crypto(String),
    #[error(transparent)]
    Account(#[from] infobank_accounts::AccountError),
    #[error(transparent)]
    Coins(#[from] infobank_coins::CoinsError),
    #[error(transparent)]
    Audit(#[from] infobank_audit::AuditError),
    #[error(transparent)]
    Database(#[from] infobank_db::diesel::result::Error),
}

impl From<infobank_crypto::SealError> for VaultError {
    fn from(e: infobank_crypto::SealError) -> Self {
        Self::Crypto(e.to_string())
    }
}
