//! What the bank tells a citizen on its own: her inbox. Three reasons, each written once per
//! occasion by the server's background task ([`remind_due`], every minute, like
//! [`crate::consents::expire_due`]):
//!
//! - `consent_expiring`: a live consent ends within [`EXPIRY_WARNING_DAYS`] days (occasion: the
//!   day it ends);
//! - `company_suspended` / `company_revoked`: a company she holds a live consent with was
//!   suspended or revoked (occasion: the company's status change);
//! - `consent_review`: every [`REVIEW_EVERY_DAYS`] days after a consent was given, a reminder
//!   that it is still running and how to withdraw it (CDR rule 4.20; occasion: which period).
//!
//! The `(consent, kind, occasion)` key is unique: running the task twice, or on two nodes at
//! once, writes each notice once. Notices hold ids and times only; what they say is looked up
//! when the inbox is shown.

use chrono::{DateTime, Duration, SubsecRound as _, Utc};
use infobank_db::diesel::dsl::{exists, max, not};
use infobank_db::diesel::prelude::*;
use infobank_db::diesel::sql_query;
use infobank_db::diesel::sql_types::{Text, Timestamp};
use infobank_db::schema::{citizen_notices, companies, company_decisions, consents, offers};
use infobank_db::{DbConnection, write_transaction};
use serde::Serialize;

use crate::ConsentError;

/// A live consent ending within this many days gets a notice.
pub const EXPIRY_WARNING_DAYS: i64 = 14;
/// A consent still running is recalled to its citizen every this many days.
pub const REVIEW_EVERY_DAYS: i64 = 90;
/// At most this many candidates per reason and call; the next call takes the rest.
const BATCH: i64 = 500;
const LIVE: [&str; 2] = ["active", "paused"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    ConsentExpiring,
    CompanySuspended,
    CompanyRevoked,
    ConsentReview,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 4] = [
        Self::ConsentExpiring,
        Self::CompanySuspended,
        Self::CompanyRevoked,
        Self::ConsentReview,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConsentExpiring => "consent_expiring",
            Self::CompanySuspended => "company_suspended",
            Self::CompanyRevoked => "company_revoked",
            Self::ConsentReview => "consent_review",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One notice as the inbox shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub id: String,
    pub kind: NoticeKind,
    pub consent_id: String,
    pub company_name: String,
    pub offer_title: String,
    /// The consent's end, for `consent_expiring` (and shown with the others too).
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

/// A notice due: to whom, about which consent, why, and on what occasion.
struct Due {
    citizen_id: String,
    consent_id: String,
    kind: NoticeKind,
    occasion: String,
}

/// Writes the notices due at `now` that were not written yet; returns how many it wrote.
pub fn remind_due(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, ConsentError> {
    let now = now.trunc_subsecs(6);
    let mut due = expiring(conn, now)?;
    due.extend(company_changes(conn, now)?);
    due.extend(reviews(conn, now)?);
    if due.is_empty() {
        return Ok(0);
    }
    write_transaction(conn, |conn| {
        let mut written = 0;
        for d in &due {
            // The same SQL on both backends: diesel's `on_conflict_do_nothing` is not available
            // through `MultiConnection`.
            written += sql_query(
                "INSERT INTO citizen_notices (id, citizen_id, consent_id, kind, occasion, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (consent_id, kind, occasion) DO NOTHING",
            )
            .bind::<Text, _>(uuid::Uuid::now_v7().to_string())
            .bind::<Text, _>(&d.citizen_id)
            .bind::<Text, _>(&d.consent_id)
            .bind::<Text, _>(d.kind.as_str())
            .bind::<Text, _>(&d.occasion)
            .bind::<Timestamp, _>(now.naive_utc())
            .execute(conn)?;
        }
        Ok(written)
    })
}

/// Live consents ending within the warning window, not yet told.
fn expiring(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<Vec<Due>, ConsentError> {
    let kind = NoticeKind::ConsentExpiring;
    let rows: Vec<(String, String, chrono::NaiveDateTime)> = consents::table
        .filter(consents::status.eq_any(LIVE))
        .filter(consents::expires_at.gt(now.naive_utc()))
        .filter(consents::expires_at.le((now + Duration::days(EXPIRY_WARNING_DAYS)).naive_utc()))
        .filter(not(exists(
            citizen_notices::table
                .filter(citizen_notices::consent_id.eq(consents::id))
                .filter(citizen_notices::kind.eq(kind.as_str())),
        )))
        .select((consents::citizen_id, consents::id, consents::expires_at))
        .limit(BATCH)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(citizen_id, consent_id, ends)| Due {
            citizen_id,
            consent_id,
            kind,
            occasion: ends.date().to_string(),
        })
        .collect())
}

/// Live consents with a company that is now suspended or revoked, not told since the decision
/// that made it so (the company's last decision: not `updated_at`, which a secret reset moves
/// too).
fn company_changes(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<Vec<Due>, ConsentError> {
    let mut due = Vec::new();
    for (status, kind) in [
        ("suspended", NoticeKind::CompanySuspended),
        ("revoked", NoticeKind::CompanyRevoked),
    ] {
        let changed: Vec<(String, Option<chrono::NaiveDateTime>)> = companies::table
            .inner_join(company_decisions::table)
            .filter(companies::status.eq(status))
            .group_by(companies::id)
            .select((companies::id, max(company_decisions::decided_at)))
            .load(conn)?;
        for (company, decided) in changed {
            let Some(decided) = decided else { continue };
            // The occasion is the decision itself, compared as the unique key stores it (not by
            // time: a notice may be written a moment before a decision another node committed).
            let occasion = decided.and_utc().to_rfc3339();
            let rows: Vec<(String, String)> = consents::table
                .filter(consents::company_id.eq(&company))
                .filter(consents::status.eq_any(LIVE))
                .filter(consents::expires_at.gt(now.naive_utc()))
                .filter(not(exists(
                    citizen_notices::table
                        .filter(citizen_notices::consent_id.eq(consents::id))
                        .filter(citizen_notices::kind.eq(kind.as_str()))
                        .filter(citizen_notices::occasion.eq(&occasion)),
                )))
                .order(consents::id)
                .select((consents::citizen_id, consents::id))
                .limit(BATCH)
                .load(conn)?;
            due.extend(rows.into_iter().map(|(citizen_id, consent_id)| Due {
                citizen_id,
                consent_id,
                kind,
                occasion: occasion.clone(),
            }));
        }
    }
    Ok(due)
}

/// Consents running for another full review period since they were given or last recalled.
fn reviews(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<Vec<Due>, ConsentError> {
    let kind = NoticeKind::ConsentReview;
    let period = Duration::days(REVIEW_EVERY_DAYS);
    let rows: Vec<(String, String, chrono::NaiveDateTime)> = consents::table
        .filter(consents::status.eq_any(LIVE))
        .filter(consents::expires_at.gt(now.naive_utc()))
        .filter(consents::granted_at.le((now - period).naive_utc()))
        .filter(not(exists(
            citizen_notices::table
                .filter(citizen_notices::consent_id.eq(consents::id))
                .filter(citizen_notices::kind.eq(kind.as_str()))
                .filter(citizen_notices::created_at.gt((now - period).naive_utc())),
        )))
        .select((consents::citizen_id, consents::id, consents::granted_at))
        .limit(BATCH)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(citizen_id, consent_id, granted)| {
            // The n-th period since the grant: a restarted server does not recall twice.
            let periods = (now.naive_utc() - granted).num_days() / REVIEW_EVERY_DAYS;
            Due {
                citizen_id,
                consent_id,
                kind,
                occasion: format!("period-{periods}"),
            }
        })
        .collect())
}

/// The citizen's notices, newest first (at most `limit`).
pub fn for_citizen(conn: &mut DbConnection, citizen_id: &str, limit: i64) -> Result<Vec<Notice>, ConsentError> {
    type Row = (
        String,
        String,
        String,
        chrono::NaiveDateTime,
        Option<chrono::NaiveDateTime>,
        String,
        String,
        chrono::NaiveDateTime,
    );
    let rows: Vec<Row> = citizen_notices::table
        .inner_join(consents::table.inner_join(companies::table).inner_join(offers::table))
        .filter(citizen_notices::citizen_id.eq(citizen_id))
        .order((citizen_notices::created_at.desc(), citizen_notices::id.desc()))
        .limit(limit.clamp(1, 200))
        .select((
            citizen_notices::id,
            citizen_notices::kind,
            citizen_notices::consent_id,
            citizen_notices::created_at,
            citizen_notices::read_at,
            companies::legal_name,
            offers::title,
            consents::expires_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(
            |(id, kind, consent_id, created, read_at, company_name, offer_title, ends)| {
                Ok(Notice {
                    id,
                    kind: NoticeKind::parse(&kind)
                        .ok_or_else(|| ConsentError::Corrupt(format!("notice kind {kind}")))?,
                    consent_id,
                    company_name,
                    offer_title,
                    expires_at: ends.and_utc(),
                    created_at: created.and_utc(),
                    read: read_at.is_some(),
                })
            },
        )
        .collect()
}

/// How many of the citizen's notices she has not marked read (the count in the navigation).
pub fn unread(conn: &mut DbConnection, citizen_id: &str) -> Result<i64, ConsentError> {
    Ok(citizen_notices::table
        .filter(citizen_notices::citizen_id.eq(citizen_id))
        .filter(citizen_notices::read_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Marks all of the citizen's notices read; returns how many were unread.
pub fn mark_read(conn: &mut DbConnection, citizen_id: &str, now: DateTime<Utc>) -> Result<usize, ConsentError> {
    write_transaction(conn, |conn| {
        Ok(infobank_db::diesel::update(
            citizen_notices::table
                .filter(citizen_notices::citizen_id.eq(citizen_id))
                .filter(citizen_notices::read_at.is_null()),
        )
        .set(citizen_notices::read_at.eq(Some(now.trunc_subsecs(6).naive_utc())))
        .execute(conn)?)
    })
}
