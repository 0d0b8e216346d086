//! What an audit leaf records: who did what to which objects, when. Only ids, roles and
//! pseudonyms: never a personal value (an email, a name, entrusted data).

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// Every kind of event the log records. The string form is part of the leaf, so never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    AccountCreated,
    AccountDeleted,
    StaffSignedIn,
    AuditRead,
    RecordCreated,
    RecordUpdated,
    RecordDeleted,
    RecordsImported,
    DataExported,
    RewardPolicyPublished,
    CoinsPaid,
    CoinsFunded,
    CoinsReserved,
    CoinsReleased,
    CoinsRedeemed,
    CompanyApplied,
    CompanyStatusChanged,
    CompanySecretRotated,
    OfferProposed,
    OfferReviewed,
    OfferDeclined,
    OfferDeclineUndone,
    ConsentGranted,
    ConsentPaused,
    ConsentResumed,
    ConsentRevoked,
    ConsentExpired,
    DataDisclosed,
    StatisticsRun,
}

impl Action {
    pub const ALL: [Action; 29] = [
        Action::AccountCreated,
        Action::AccountDeleted,
        Action::StaffSignedIn,
        Action::AuditRead,
        Action::RecordCreated,
        Action::RecordUpdated,
        Action::RecordDeleted,
        Action::RecordsImported,
        Action::DataExported,
        Action::RewardPolicyPublished,
        Action::CoinsPaid,
        Action::CoinsFunded,
        Action::CoinsReserved,
        Action::CoinsReleased,
        Action::CoinsRedeemed,
        Action::CompanyApplied,
        Action::CompanyStatusChanged,
        Action::CompanySecretRotated,
        Action::OfferProposed,
        Action::OfferReviewed,
        Action::OfferDeclined,
        Action::OfferDeclineUndone,
        Action::ConsentGranted,
        Action::ConsentPaused,
        Action::ConsentResumed,
        Action::ConsentRevoked,
        Action::ConsentExpired,
        Action::DataDisclosed,
        Action::StatisticsRun,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AccountCreated => "account.created",
            Self::AccountDeleted => "account.deleted",
            Self::StaffSignedIn => "staff.signed_in",
            Self::AuditRead => "audit.read",
            Self::RecordCreated => "record.created",
            Self::RecordUpdated => "record.updated",
            Self::RecordDeleted => "record.deleted",
            Self::RecordsImported => "records.imported",
            Self::DataExported => "data.exported",
            Self::RewardPolicyPublished => "reward_policy.published",
            Self::CoinsPaid => "coins.paid",
            Self::CoinsFunded => "coins.funded",
            Self::CoinsReserved => "coins.reserved",
            Self::CoinsReleased => "coins.released",
            Self::CoinsRedeemed => "coins.redeemed",
            Self::CompanyApplied => "company.applied",
            Self::CompanyStatusChanged => "company.status_changed",
            Self::CompanySecretRotated => "company.secret_rotated",
            Self::OfferProposed => "offer.proposed",
            Self::OfferReviewed => "offer.reviewed",
            Self::OfferDeclined => "offer.declined",
            Self::OfferDeclineUndone => "offer.decline_undone",
            Self::ConsentGranted => "consent.granted",
            Self::ConsentPaused => "consent.paused",
            Self::ConsentResumed => "consent.resumed",
            Self::ConsentRevoked => "consent.revoked",
            Self::ConsentExpired => "consent.expired",
            Self::DataDisclosed => "data.disclosed",
            Self::StatisticsRun => "statistics.run",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Who acted: a role and an id (an account id, a company id, or `system` for the bank itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub role: String,
    pub id: String,
}

impl Actor {
    pub fn new(role: &str, id: &str) -> Self {
        Self {
            role: role.to_owned(),
            id: id.to_owned(),
        }
    }

    pub fn system() -> Self {
        Self::new("system", "infobank")
    }
}

#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub action: Action,
    pub actor: Actor,
    /// The company the event concerns, if any (the regulator filters by it).
    pub company_id: Option<String>,
    /// Ids of the objects touched, by kind: `{"account": "…", "consent": "…"}`.
    pub objects: BTreeMap<String, String>,
}

impl AuditEvent {
    pub fn new(action: Action, actor: Actor) -> Self {
        Self {
            action,
            actor,
            company_id: None,
            objects: BTreeMap::new(),
        }
    }

    pub fn object(mut self, kind: &str, id: &str) -> Self {
        self.objects.insert(kind.to_owned(), id.to_owned());
        self
    }

    pub fn company(mut self, company_id: &str) -> Self {
        self.company_id = Some(company_id.to_owned());
        self
    }

    /// The leaf as a JSON value; [`crate::canonical`] turns it into the hashed bytes.
    ///
    /// A leaf carries no tree index: it is written before the sequencer gives it one. `nonce`
    /// (random, hex) makes the leaf hash name one leaf even when two events are alike (one
    /// regulator reading the same page twice within a millisecond).
    pub fn to_leaf(&self, nonce: &str, at: DateTime<Utc>) -> Value {
        json!({
            "nonce": nonce,
            "time": at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "action": self.action.as_str(),
            "actor": { "role": self.actor.role, "id": self.actor.id },
            "company": self.company_id,
            "objects": self.objects,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Action;

    /// `ALL` feeds the regulator's filter and `parse`: every action must be in it, once.
    #[test]
    fn all_lists_every_action_once_and_names_round_trip() {
        for action in Action::ALL {
            // The match is exhaustive: a new variant fails to compile here until it is listed.
            let listed = match action {
                Action::AccountCreated
                | Action::AccountDeleted
                | Action::StaffSignedIn
                | Action::AuditRead
                | Action::RecordCreated
                | Action::RecordUpdated
                | Action::RecordDeleted
                | Action::RecordsImported
                | Action::DataExported
                | Action::RewardPolicyPublished
                | Action::CoinsPaid
                | Action::CoinsFunded
                | Action::CoinsReserved
                | Action::CoinsReleased
                | Action::CoinsRedeemed
                | Action::CompanyApplied
                | Action::CompanyStatusChanged
                | Action::CompanySecretRotated
                | Action::OfferProposed
                | Action::OfferReviewed
                | Action::OfferDeclined
                | Action::OfferDeclineUndone
                | Action::ConsentGranted
                | Action::ConsentPaused
                | Action::ConsentResumed
                | Action::ConsentRevoked
                | Action::ConsentExpired
                | Action::DataDisclosed
                | Action::StatisticsRun => true,
            };
            assert!(listed);
            assert_eq!(Action::parse(action.as_str()), Some(action));
            assert_eq!(Action::ALL.iter().filter(|a| **a == action).count(), 1);
        }
        assert_eq!(Action::ALL.len(), 29, "a new action must be added to ALL");
    }
}
