//! Companies' coins: operators credit a company's funding account (what it may promise as offer
//! rewards), and a company sees its balance and what is reserved for its consents.

use chrono::{DateTime, Utc};
use infobank_audit::Actor;
use infobank_db::diesel::prelude::*;
use infobank_db::schema::{coin_accounts, coin_reservations};
use infobank_db::{DbConnection, write_transaction};
use serde::Serialize;
use serde_json::json;

use crate::ledger::{NewEntry, balance, post};
use crate::rewards::{RESERVATION_COLUMNS, Reservation, reservation_from_row};
use crate::{Account, CoinsError, MAX_AMOUNT, Posted, Reason};

pub(crate) fn check_amount(amount: i64) -> Result<(), CoinsError> {
    if !(1..=MAX_AMOUNT).contains(&amount) {
        return Err(CoinsError::InvalidAmount(format!(
            "must be 1..={MAX_AMOUNT}, got {amount}"
        )));
    }
    Ok(())
}

/// A caller-chosen idempotency key: 1 to 128 visible ASCII characters.
pub(crate) fn check_key(key: &str) -> Result<(), CoinsError> {
    if key.is_empty() || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(CoinsError::Invalid(
            "idempotency_key must be 1 to 128 visible ASCII characters".into(),
        ));
    }
    Ok(())
}

/// Credits `amount` coins to a company's funding account, issued by the bank (the company pays
/// the operator for them outside this system). `key` makes a retried command credit once.
pub fn fund_company(
    conn: &mut DbConnection,
    company_id: &str,
    amount: i64,
    key: &str,
    operator_id: &str,
    now: DateTime<Utc>,
) -> Result<Posted, CoinsError> {
    check_amount(amount)?;
    check_key(key)?;
    if uuid::Uuid::parse_str(company_id).is_err() {
        return Err(CoinsError::Invalid(format!("{company_id:?} is not a company id")));
    }
    write_transaction(conn, |conn| {
        let posted = post(
            conn,
            NewEntry {
                idempotency_key: format!("fund/{key}"),
                reason: Reason::Funding,
                ref_kind: "company",
                ref_id: company_id,
                policy_version: None,
                inputs: json!({ "amount": amount }),
                event_leaf: None,
                actor: Actor::new("operator", operator_id),
                company_id: Some(company_id),
                postings: vec![(Account::Issuance, -amount), (Account::Company(company_id), amount)],
            },
            now,
        )?;
        let first = posted.entry();
        if posted.is_replay()
            && (first.ref_id != company_id || first.amount_for(Account::Company(company_id)) != amount)
        {
            return Err(CoinsError::IdempotencyConflict);
        }
        Ok(posted)
    })
}

/// What a company holds: its funding balance, its escrow, and its reservations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompanyCoins {
    pub company_id: String,
    /// Coins it can still promise.
    pub balance: i64,
    /// Coins held in escrow for consents not yet disclosed to.
    pub reserved: i64,
    /// The most recent reservations, newest first.
    pub reservations: Vec<Reservation>,
}

/// A company's coins with its `limit` most recent reservations.
pub fn company_coins(conn: &mut DbConnection, company_id: &str, limit: i64) -> Result<CompanyCoins, CoinsError> {
    let rows = coin_reservations::table
        .filter(coin_reservations::company_id.eq(company_id))
        .order((
            coin_reservations::created_at.desc(),
            coin_reservations::consent_id.desc(),
        ))
        .limit(limit.clamp(1, 500))
        .select(RESERVATION_COLUMNS)
        .load(conn)?;
    Ok(CompanyCoins {
        company_id: company_id.to_owned(),
        balance: balance(conn, Account::Company(company_id))?,
        reserved: balance(conn, Account::Escrow(company_id))?,
        reservations: rows.into_iter().map(reservation_from_row).collect(),
    })
}

/// A company's offer-reward reservations summed by status (`held`, `paid`, `released`): how many,
/// and how many coins.
pub fn reservation_totals(
    conn: &mut DbConnection,
    company_id: &str,
) -> Result<std::collections::BTreeMap<String, (i64, i64)>, CoinsError> {
    // Summed here: diesel's SUM over BIGINT is NUMERIC, which `MultiConnection` cannot load.
    let rows: Vec<(String, i64)> = coin_reservations::table
        .filter(coin_reservations::company_id.eq(company_id))
        .select((coin_reservations::status, coin_reservations::amount))
        .load(conn)?;
    let mut totals = std::collections::BTreeMap::new();
    for (status, amount) in rows {
        let entry: &mut (i64, i64) = totals.entry(status).or_default();
        entry.0 += 1;
        entry.1 += amount;
    }
    Ok(totals)
}

/// Every company that has a coin account, with its balance and escrow, by company id.
pub fn companies(conn: &mut DbConnection) -> Result<Vec<(String, i64, i64)>, CoinsError> {
    let rows: Vec<(String, Option<String>, i64)> = coin_accounts::table
        .filter(coin_accounts::kind.eq_any(["company", "escrow"]))
        .order(coin_accounts::owner_id.asc())
        .select((coin_accounts::kind, coin_accounts::owner_id, coin_accounts::balance))
        .load(conn)?;
    let mut out: Vec<(String, i64, i64)> = Vec::new();
    for (kind, owner, amount) in rows {
        let Some(owner) = owner else { continue };
        if out.last().is_none_or(|(id, _, _)| *id != owner) {
            out.push((owner.clone(), 0, 0));
        }
        if let Some(last) = out.last_mut() {
            if kind == "company" {
                last.1 = amount;
            } else {
                last.2 = amount;
            }
        }
    }
    Ok(out)
}
