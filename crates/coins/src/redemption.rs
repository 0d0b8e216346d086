//! Citizens spend coins: the coins move to the redemption account, and the entry records what
//! they became.

use chrono::{DateTime, Utc};
use infobank_audit::Actor;
use infobank_db::{DbConnection, write_transaction};
use serde_json::json;

use crate::funding::{check_amount, check_key};
use crate::ledger::{NewEntry, post};
use crate::{Account, CoinsError, Posted, Reason};

/// What redeemed coins become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Points of a partner's loyalty programme.
    PartnerPoints,
    /// A donation to a charity the bank partners with.
    Donation,
}

impl Target {
    pub const ALL: [Target; 2] = [Target::PartnerPoints, Target::Donation];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PartnerPoints => "partner_points",
            Self::Donation => "donation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Redeems `amount` of the citizen's coins for `target`, in a transaction of its own. More than
/// the balance is refused with [`CoinsError::InsufficientBalance`]; the same `key` again returns
/// the first redemption (and a different amount or target under it is
/// [`CoinsError::IdempotencyConflict`]).
pub fn redeem(
    conn: &mut DbConnection,
    citizen_id: &str,
    amount: i64,
    target: Target,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Posted, CoinsError> {
    check_amount(amount)?;
    check_key(key)?;
    let redemption_id = uuid::Uuid::now_v7().to_string();
    write_transaction(conn, |conn| {
        let posted = post(
            conn,
            NewEntry {
                idempotency_key: format!("redeem/{citizen_id}/{key}"),
                reason: Reason::Redemption,
                ref_kind: "redemption",
                ref_id: &redemption_id,
                policy_version: None,
                inputs: json!({ "amount": amount, "target": target.as_str() }),
                event_leaf: None,
                actor: Actor::new("citizen", citizen_id),
                company_id: None,
                postings: vec![(Account::Citizen(citizen_id), -amount), (Account::Redemption, amount)],
            },
            now,
        )?;
        let first = posted.entry();
        if posted.is_replay() && (first.inputs["amount"] != amount || first.inputs["target"] != target.as_str()) {
            return Err(CoinsError::IdempotencyConflict);
        }
        Ok(posted)
    })
}
