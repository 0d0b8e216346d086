//! Refused disclosure attempts, counted per company, month and reason. A refusal writes no audit
//! leaf (nothing left the bank, and a company probing ids must not grow the log); these counters
//! are what the regulator's dashboard shows beside the log (`disclosure_refusals`).

use chrono::{DateTime, Utc};
use infobank_db::diesel::prelude::*;
use infobank_db::diesel::sql_query;
use infobank_db::diesel::sql_types::Text;
use infobank_db::schema::disclosure_refusals;
use infobank_db::{DbConnection, write_transaction};

use crate::ConsentError;

/// The reason a refused disclosure is counted under: the problem code the company got.
pub fn reason_of(error: &ConsentError) -> Option<&'static str> {
    match error {
        ConsentError::NotLive(why) => Some(why.code()),
        ConsentError::NotFound => Some("not_found"),
        ConsentError::StatisticsOnly => Some("statistics_only"),
        _ => None,
    }
}

/// Adds one refusal of `company_id` for `reason` in the month of `now`.
pub fn count(conn: &mut DbConnection, company_id: &str, reason: &str, now: DateTime<Utc>) -> Result<(), ConsentError> {
    let month = now.format("%Y-%m").to_string();
    write_transaction(conn, |conn| {
        // The same SQL on both backends: diesel's upsert is not available through
        // `MultiConnection`.
        sql_query(
            "INSERT INTO disclosure_refusals (company_id, month, reason, refusals) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (company_id, month, reason) DO UPDATE SET refusals = disclosure_refusals.refusals + 1",
        )
        .bind::<Text, _>(company_id)
        .bind::<Text, _>(&month)
        .bind::<Text, _>(reason)
        .execute(conn)?;
        Ok(())
    })
}

/// Every counter: (company, month, reason, refusals).
pub fn all(conn: &mut DbConnection) -> Result<Vec<(String, String, String, i64)>, ConsentError> {
    Ok(disclosure_refusals::table
        .order((
            disclosure_refusals::month,
            disclosure_refusals::company_id,
            disclosure_refusals::reason,
        ))
        .select((
            disclosure_refusals::company_id,
            disclosure_refusals::month,
            disclosure_refusals::reason,
            disclosure_refusals::refusals,
        ))
        .load(conn)?)
}
