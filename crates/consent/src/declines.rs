//! A citizen's "not for me": declining an offer takes it out of her inbox, until she undoes it.
//! Each decline and each undo is an audit leaf (`offer.declined`, `offer.decline_undone`), in
//! the same transaction; declining twice, or undoing what was not declined, changes and logs
//! nothing. Only an open offer (approved, of an approved company) can be declined; any other id
//! is `NotFound`, as for an offer that does not exist.

use std::collections::HashSet;

use chrono::{DateTime, SubsecRound as _, Utc};
use infobank_audit::{Action, Actor, AuditEvent, append};
use infobank_db::diesel::prelude::*;
use infobank_db::schema::offer_declines;
use infobank_db::{DbConnection, write_transaction};

use crate::ConsentError;
use crate::companies::CompanyStatus;

fn is_open(conn: &mut DbConnection, offer_id: &str) -> Result<bool, ConsentError> {
    let offer = match crate::offers::get(conn, offer_id) {
        Ok(offer) => offer,
        Err(ConsentError::NotFound) => return Ok(false),
        Err(e) => return Err(e),
    };
    let company = crate::companies::get(conn, &offer.company_id)?;
    Ok(offer.status == "approved" && company.status == CompanyStatus::Approved)
}

fn leaf(action: Action, citizen_id: &str, offer_id: &str) -> AuditEvent {
    AuditEvent::new(action, Actor::new("citizen", citizen_id)).object("offer", offer_id)
}

/// Declines an open offer; `true` when it was not declined before (then a leaf is written).
pub fn decline(
    conn: &mut DbConnection,
    citizen_id: &str,
    offer_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, ConsentError> {
    let now = now.trunc_subsecs(6);
    if !is_open(conn, offer_id)? {
        return Err(ConsentError::NotFound);
    }
    write_transaction(conn, |conn| {
        let held: i64 = offer_declines::table
            .filter(offer_declines::citizen_id.eq(citizen_id))
            .filter(offer_declines::offer_id.eq(offer_id))
            .count()
            .get_result(conn)?;
        if held > 0 {
            return Ok(false);
        }
        infobank_db::diesel::insert_into(offer_declines::table)
            .values((
                offer_declines::citizen_id.eq(citizen_id),
                offer_declines::offer_id.eq(offer_id),
                offer_declines::declined_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
        append(conn, &leaf(Action::OfferDeclined, citizen_id, offer_id), now)?;
        Ok(true)
    })
}

/// Undoes a decline; `true` when there was one (then a leaf is written).
pub fn undo(
    conn: &mut DbConnection,
    citizen_id: &str,
    offer_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, ConsentError> {
    let now = now.trunc_subsecs(6);
    write_transaction(conn, |conn| {
        let removed = infobank_db::diesel::delete(
            offer_declines::table
                .filter(offer_declines::citizen_id.eq(citizen_id))
                .filter(offer_declines::offer_id.eq(offer_id)),
        )
        .execute(conn)?;
        if removed == 0 {
            return Ok(false);
        }
        append(conn, &leaf(Action::OfferDeclineUndone, citizen_id, offer_id), now)?;
        Ok(true)
    })
}

/// The offers the citizen declined, with when.
pub fn declined(conn: &mut DbConnection, citizen_id: &str) -> Result<Vec<(String, DateTime<Utc>)>, ConsentError> {
    let rows: Vec<(String, chrono::NaiveDateTime)> = offer_declines::table
        .filter(offer_declines::citizen_id.eq(citizen_id))
        .order(offer_declines::declined_at.desc())
        .select((offer_declines::offer_id, offer_declines::declined_at))
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, at)| (id, at.and_utc())).collect())
}

/// The ids of the offers the citizen declined.
pub fn declined_ids(conn: &mut DbConnection, citizen_id: &str) -> Result<HashSet<String>, ConsentError> {
    Ok(declined(conn, citizen_id)?.into_iter().map(|(id, _)| id).collect())
}
