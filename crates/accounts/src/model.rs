use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Citizen,
    Operator,
    Regulator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Citizen => "citizen",
            Self::Operator => "operator",
            Self::Regulator => "regulator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "citizen" => Some(Self::Citizen),
            "operator" => Some(Self::Operator),
            "regulator" => Some(Self::Regulator),
            _ => None,
        }
    }
}

/// An authenticated account: enough to authorise, nothing personal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub role: Role,
}

/// The decrypted personal view of an account, for its owner only.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub id: String,
    pub role: Role,
    pub email: String,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
}
