//! A wallet's statement: its entries newest first, and what it earned per month by reason.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use infobank_db::DbConnection;
use infobank_db::diesel::prelude::*;
use infobank_db::schema::{coin_entries, coin_postings};

use crate::ledger::entries_by_id;
use crate::rewards::month_of;
use crate::{Account, CoinsError, Entry, Reason};

/// One line of an account's statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub entry: Entry,
    /// What the entry moved into (positive) or out of (negative) this account.
    pub amount: i64,
    pub balance_after: i64,
}

/// At most this many lines per page.
pub const MAX_PAGE: i64 = 200;

/// The account's lines, newest first, after the entry id `before` (the previous page's last).
pub fn history(
    conn: &mut DbConnection,
    account: Account<'_>,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<Line>, CoinsError> {
    let mut query = coin_postings::table
        .filter(coin_postings::account_id.eq(account.id()))
        .order(coin_postings::entry_id.desc())
        .limit(limit.clamp(1, MAX_PAGE))
        .select((
            coin_postings::entry_id,
            coin_postings::amount,
            coin_postings::balance_after,
        ))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(coin_postings::entry_id.lt(before.to_owned()));
    }
    let rows: Vec<(String, i64, i64)> = query.load(conn)?;
    let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let entries = entries_by_id(conn, &ids)?;
    Ok(entries
        .into_iter()
        .zip(rows)
        .map(|(entry, (_, amount, balance_after))| Line {
            entry,
            amount,
            balance_after,
        })
        .collect())
}

/// Every line of the account, oldest first (for the citizen's export).
pub fn all_lines(conn: &mut DbConnection, account: Account<'_>) -> Result<Vec<Line>, CoinsError> {
    let mut lines = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = history(conn, account, before.as_deref(), MAX_PAGE)?;
        let Some(last) = page.last() else { break };
        before = Some(last.entry.id.clone());
        lines.extend(page);
    }
    lines.reverse();
    Ok(lines)
}

/// Coins credited to the account per calendar month and reason, from `since` on.
pub fn earned_per_month(
    conn: &mut DbConnection,
    account: Account<'_>,
    since: DateTime<Utc>,
) -> Result<BTreeMap<String, BTreeMap<Reason, i64>>, CoinsError> {
    let rows: Vec<(String, i64, NaiveDateTime)> = coin_postings::table
        .inner_join(coin_entries::table)
        .filter(coin_postings::account_id.eq(account.id()))
        .filter(coin_postings::amount.gt(0))
        .filter(coin_entries::created_at.ge(since.naive_utc()))
        .select((coin_entries::reason, coin_postings::amount, coin_entries::created_at))
        .load(conn)?;
    let mut months: BTreeMap<String, BTreeMap<Reason, i64>> = BTreeMap::new();
    for (reason, amount, at) in rows {
        let reason = Reason::parse(&reason).ok_or_else(|| CoinsError::Corrupt(format!("reason {reason}")))?;
        *months
            .entry(month_of(at.and_utc()))
            .or_default()
            .entry(reason)
            .or_default() += amount;
    }
    Ok(months)
}
