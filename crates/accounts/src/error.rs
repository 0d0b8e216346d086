#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("an account with this email already exists")]
    DuplicateEmail,
    #[error("email or password is wrong")]
    InvalidCredentials,
    #[error("too many failed sign-ins; retry in {retry_after_secs} s")]
    Throttled { retry_after_secs: i64 },
    #[error("invalid email address")]
    InvalidEmail,
    #[error("{0}")]
    WeakPassword(&'static str),
    #[error("account not found")]
    NotFound,
    #[error("stored account data does not decrypt: {0}")]
    Crypto(String),
    #[error("no key-encryption key available")]
    NoKek,
    #[error(transparent)]
    Database(#[from] infobank_db::diesel::result::Error),
    /// The audit leaf could not be written, so nothing was (fail closed).
    #[error(transparent)]
    Audit(#[from] infobank_audit::AuditError),
}

impl From<infobank_crypto::SealError> for AccountError {
    fn from(e: infobank_crypto::SealError) -> Self {
        Self::Crypto(e.to_string())
    }
}

impl From<infobank_crypto::PasswordError> for AccountError {
    fn from(e: infobank_crypto::PasswordError) -> Self {
        Self::Crypto(e.to_string())
    }
}

impl From<infobank_crypto::random::RandomError> for AccountError {
    fn from(e: infobank_crypto::random::RandomError) -> Self {
        Self::Crypto(e.to_string())
    }
}
