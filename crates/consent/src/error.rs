/// Why a consent does not allow a disclosure right now (the API's 403 codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotLive {
    Revoked,
    Paused,
    Expired,
    CompanySuspended,
    /// The company was revoked or is not approved (any more).
    CompanyNotApproved,
    OfferWithdrawn,
    QuotaExceeded,
}

impl NotLive {
    pub fn code(self) -> &'static str {
        match self {
            Self::Revoked => "consent_revoked",
            Self::Paused => "consent_paused",
            Self::Expired => "consent_expired",
            Self::CompanySuspended => "company_suspended",
            Self::CompanyNotApproved => "company_not_approved",
            Self::OfferWithdrawn => "offer_withdrawn",
            Self::QuotaExceeded => "quota_exceeded",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    /// Missing, or not this caller's: the two answer the same (no existence oracle).
    #[error("not found")]
    NotFound,
    #[error("invalid {field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("a company with this corporate number has already applied")]
    DuplicateCorporateNumber,
    #[error("client credentials are not valid")]
    InvalidCredentials,
    #[error("the company is not approved")]
    CompanyNotApproved,
    #[error("cannot go from {from} to {to}")]
    InvalidTransition { from: String, to: String },
    #[error("a reason is required")]
    ReasonRequired,
    #[error("the offer is not open for consent")]
    OfferNotOpen,
    #[error("the citizen already holds a live consent to this offer")]
    AlreadyConsented,
    #[error("the consent does not allow access: {}", .0.code())]
    NotLive(NotLive),
    #[error("a statistics offer discloses no citizen's data; run its statistics instead")]
    StatisticsOnly,
    #[error(
        "the participants changed by {changed} people since an earlier run; at least {k} must have joined or left (or none)"
    )]
    StatisticsTooClose { changed: i64, k: i64 },
    #[error(
        "the same people were counted by other dimensions in an earlier run of the company; together the two answers could give away withheld cells"
    )]
    StatisticsOtherDimensions,
    #[error("consents of the offer changed while its statistics ran; run it again")]
    ParticipantsChanged,
    #[error("this offer does not ask for statistics")]
    NotStatistics,
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Coins(#[from] infobank_coins::CoinsError),
    #[error(transparent)]
    Vault(#[from] infobank_vault::VaultError),
    #[error(transparent)]
    Audit(#[from] infobank_audit::AuditError),
    #[error(transparent)]
    Database(#[from] infobank_db::diesel::result::Error),
}

impl ConsentError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }
}
