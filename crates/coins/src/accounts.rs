//! Ledger accounts. Their ids are derived from what they belong to, so a posting never needs a
//! lookup to find its account, and an account row is created on its first posting.

/// One account of the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account<'a> {
    /// A citizen's wallet.
    Citizen(&'a str),
    /// A company's funding account: coins it may promise as offer rewards.
    Company(&'a str),
    /// A company's escrow: offer rewards reserved for consents not yet paid.
    Escrow(&'a str),
    /// The bank's issuance account: rewards the bank pays and funding it sells are issued from
    /// it, so its balance is minus the coins in circulation (the only account below zero).
    Issuance,
    /// Where redeemed coins go (the redemption target is recorded on the entry).
    Redemption,
}

impl Account<'_> {
    pub fn id(&self) -> String {
        match self {
            Self::Citizen(id) => format!("citizen:{id}"),
            Self::Company(id) => format!("company:{id}"),
            Self::Escrow(id) => format!("escrow:{id}"),
            Self::Issuance => "bank:issuance".into(),
            Self::Redemption => "bank:redemption".into(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Citizen(_) => "citizen",
            Self::Company(_) => "company",
            Self::Escrow(_) => "escrow",
            Self::Issuance => "issuance",
            Self::Redemption => "redemption",
        }
    }

    pub fn owner(&self) -> Option<&str> {
        match self {
            Self::Citizen(id) | Self::Company(id) | Self::Escrow(id) => Some(id),
            Self::Issuance | Self::Redemption => None,
        }
    }

    /// Only the issuance account may go below zero.
    pub fn may_go_negative(&self) -> bool {
        matches!(self, Self::Issuance)
    }
}
