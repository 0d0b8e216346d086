#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log database error: {0}")]
    Database(#[from] infobank_db::diesel::result::Error),
    #[error(transparent)]
    Canonical(#[from] crate::canonical::FloatInLeaf),
    /// `append` must run in the caller's transaction so that the event and its leaf commit
    /// together or not at all.
    #[error("audit append outside a transaction")]
    NotInTransaction,
    #[error("{what} {value} is beyond the tree size {size}")]
    OutOfRange { what: &'static str, value: u64, size: u64 },
    #[error("invalid range: {0}")]
    BadRange(String),
    #[error("audit log storage is inconsistent: {0}")]
    Corrupt(String),
    #[error("signing the tree head failed: {0}")]
    Signing(String),
}
