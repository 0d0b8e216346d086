//! Payouts. Each runs inside the caller's transaction, next to the event it pays for (an
//! entrust, a consent, a disclosure), and is idempotent by construction: its key names what is
//! paid, so a second call for the same thing returns the first entry and pays nothing.

use chrono::{DateTime, Utc};
use infobank_audit::Actor;
use infobank_db::DbConnection;
use infobank_db::diesel::prelude::*;
use infobank_db::schema::{coin_breadth, coin_reservations};
use serde_json::json;

use crate::ledger::{NewEntry, post};
use crate::policy::active;
use crate::{Account, CoinsError, Posted, Reason};

/// The calendar month (UTC) payouts are counted in, as `YYYY-MM`.
pub fn month_of(at: DateTime<Utc>) -> String {
    at.format("%Y-%m").to_string()
}

/// What a payout pays for: the audit leaf (its hash) of the event and the object it concerns.
#[derive(Debug, Clone, Copy)]
pub struct PaidFor<'a> {
    pub event_leaf: infobank_audit::merkle::Hash,
    pub ref_kind: &'a str,
    pub ref_id: &'a str,
}

/// Content x amount: the citizen entrusted data of `category` and now holds `records_held`
/// records of it. Pays `weight x units` under the active policy, once per citizen, category and
/// calendar month: the month's first entrust is paid for everything then held (up to the cap),
/// later ones (including deleting and entering again) pay nothing more that month.
pub fn pay_entrust(
    conn: &mut DbConnection,
    citizen_id: &str,
    category: &str,
    records_held: i64,
    paid_for: PaidFor<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Posted>, CoinsError> {
    let policy = active(conn, now)?;
    let Some(rule) = policy.policy.categories.get(category) else {
        return Ok(None);
    };
    let amount = rule.amount(records_held);
    let month = month_of(now);
    let inputs = json!({
        "category": category,
        "month": month,
        "records_held": records_held,
        "records_per_unit": rule.records_per_unit,
        "monthly_cap_units": rule.monthly_cap_units,
        "units": rule.units(records_held),
        "weight": rule.weight,
    });
    let issue = Issue {
        key: format!("entrust/{citizen_id}/{category}/{month}"),
        reason: Reason::EntrustReward,
        citizen_id,
        company_id: None,
        amount,
        policy_version: policy.version,
        inputs,
    };
    issue_to_citizen(conn, issue, paid_for, now)
}

/// Whether a disclosure to `company_id` now could still earn the citizen a breadth bonus: no
/// disclosure to that company was counted this month yet. One primary-key read and no lock:
/// once counted, a company stays counted for the month, so `false` is final and most
/// disclosures stop here; `true` is decided again, under the lock, by [`pay_breadth`].
pub fn breadth_due(
    conn: &mut DbConnection,
    citizen_id: &str,
    company_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, CoinsError> {
    Ok(!counted_this_month(conn, citizen_id, company_id, &month_of(now))?)
}

fn counted_this_month(
    conn: &mut DbConnection,
    citizen_id: &str,
    company_id: &str,
    month: &str,
) -> Result<bool, CoinsError> {
    Ok(coin_breadth::table
        .find((citizen_id, month, company_id))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// Breadth: `company_id` received the citizen's data (a disclosure). The first time a company
/// does so in a month, the citizen gets the bonus for the n-th distinct company of that month.
pub fn pay_breadth(
    conn: &mut DbConnection,
    citizen_id: &str,
    company_id: &str,
    paid_for: PaidFor<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Posted>, CoinsError> {
    let month = month_of(now);
    let key = format!("breadth/{citizen_id}/{month}/{company_id}");
    // The month's first disclosure to this company pays once: decided under the key's lock.
    infobank_db::lock_key(conn, &key)?;
    if counted_this_month(conn, citizen_id, company_id, &month)? {
        return Ok(crate::ledger::find_by_key(conn, &key)?.map(Posted::Replayed));
    }
    diesel::insert_into(coin_breadth::table)
        .values((
            coin_breadth::citizen_id.eq(citizen_id),
            coin_breadth::month.eq(&month),
            coin_breadth::company_id.eq(company_id),
        ))
        .execute(conn)?;
    let nth: i64 = coin_breadth::table
        .filter(coin_breadth::citizen_id.eq(citizen_id))
        .filter(coin_breadth::month.eq(&month))
        .count()
        .get_result(conn)?;
    let policy = active(conn, now)?;
    let amount = policy.policy.breadth_bonus(nth);
    let inputs = json!({
        "month": month,
        "company": company_id,
        "nth_company": nth,
        "breadth_bonus_per_company": policy.policy.breadth_bonus_per_company,
        "breadth_max_companies": policy.policy.breadth_max_companies,
    });
    let issue = Issue {
        key,
        reason: Reason::BreadthBonus,
        citizen_id,
        company_id: Some(company_id),
        amount,
        policy_version: policy.version,
        inputs,
    };
    issue_to_citizen(conn, issue, paid_for, now)
}

/// A reservation of an offer's reward, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reservation {
    pub consent_id: String,
    pub company_id: String,
    pub amount: i64,
    /// `held`, `paid` or `released`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}

type ReservationRow = (
    String,
    String,
    i64,
    String,
    chrono::NaiveDateTime,
    Option<chrono::NaiveDateTime>,
);

pub(crate) fn reservation_from_row(row: ReservationRow) -> Reservation {
    Reservation {
        consent_id: row.0,
        company_id: row.1,
        amount: row.2,
        status: row.3,
        created_at: row.4.and_utc(),
        settled_at: row.5.map(|t| t.and_utc()),
    }
}

pub(crate) const RESERVATION_COLUMNS: (
    coin_reservations::consent_id,
    coin_reservations::company_id,
    coin_reservations::amount,
    coin_reservations::status,
    coin_reservations::created_at,
    coin_reservations::settled_at,
) = (
    coin_reservations::consent_id,
    coin_reservations::company_id,
    coin_reservations::amount,
    coin_reservations::status,
    coin_reservations::created_at,
    coin_reservations::settled_at,
);

pub fn reservation(conn: &mut DbConnection, consent_id: &str) -> Result<Option<Reservation>, CoinsError> {
    let row: Option<ReservationRow> = coin_reservations::table
        .find(consent_id)
        .select(RESERVATION_COLUMNS)
        .first(conn)
        .optional()?;
    Ok(row.map(reservation_from_row))
}

/// Escrow at consent: moves an offer's `amount` from the company's funding account into its
/// escrow, for `consent_id`. A company that cannot cover it gets [`CoinsError::OfferNotFunded`]
/// (and the consent must not be given). An offer without a reward reserves nothing.
pub fn reserve_offer_reward(
    conn: &mut DbConnection,
    company_id: &str,
    consent_id: &str,
    amount: i64,
    paid_for: PaidFor<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Posted>, CoinsError> {
    if amount < 0 {
        return Err(CoinsError::InvalidAmount(format!("reward {amount}")));
    }
    if amount == 0 {
        return Ok(None);
    }
    let posted = post(
        conn,
        NewEntry {
            idempotency_key: format!("reserve/{consent_id}"),
            reason: Reason::Reservation,
            ref_kind: "consent",
            ref_id: consent_id,
            policy_version: None,
            inputs: json!({ "consent": consent_id, "offer_reward": amount }),
            event_leaf: Some(paid_for.event_leaf),
            actor: Actor::new("company", company_id),
            company_id: Some(company_id),
            postings: vec![
                (Account::Company(company_id), -amount),
                (Account::Escrow(company_id), amount),
            ],
        },
        now,
    )
    .map_err(|e| match e {
        CoinsError::InsufficientBalance { balance, needed, .. } => CoinsError::OfferNotFunded { balance, needed },
        other => other,
    })?;
    if !posted.is_replay() {
        diesel::insert_into(coin_reservations::table)
            .values((
                coin_reservations::consent_id.eq(consent_id),
                coin_reservations::company_id.eq(company_id),
                coin_reservations::amount.eq(amount),
                coin_reservations::status.eq("held"),
                coin_reservations::created_at.eq(posted.entry().created_at.naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(Some(posted))
}

/// Settles a held reservation: to the citizen (`paid`) or back to the company (`released`).
fn settle(
    conn: &mut DbConnection,
    consent_id: &str,
    to: Option<&str>,
    paid_for: PaidFor<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Posted>, CoinsError> {
    // The caller holds the consent's row lock (infobank_db::locks), which guards its reservation.
    let Some(held) = reservation(conn, consent_id)? else {
        return Ok(None);
    };
    let (reason, key, status) = match to {
        Some(_) => (Reason::OfferReward, format!("offer/{consent_id}"), "paid"),
        None => (Reason::Release, format!("release/{consent_id}"), "released"),
    };
    if held.status != "held" {
        // Settled before: the same settlement is a replay, the other one pays nothing.
        return Ok(crate::ledger::find_by_key(conn, &key)?.map(Posted::Replayed));
    }
    let company = held.company_id.as_str();
    let receiver = match to {
        Some(citizen) => Account::Citizen(citizen),
        None => Account::Company(company),
    };
    let posted = post(
        conn,
        NewEntry {
            idempotency_key: key,
            reason,
            ref_kind: paid_for.ref_kind,
            ref_id: paid_for.ref_id,
            policy_version: None,
            inputs: json!({ "consent": consent_id, "offer_reward": held.amount }),
            event_leaf: Some(paid_for.event_leaf),
            actor: Actor::system(),
            company_id: Some(company),
            postings: vec![(Account::Escrow(company), -held.amount), (receiver, held.amount)],
        },
        now,
    )?;
    diesel::update(coin_reservations::table.find(consent_id))
        .set((
            coin_reservations::status.eq(status),
            coin_reservations::settled_at.eq(Some(posted.entry().created_at.naive_utc())),
        ))
        .execute(conn)?;
    Ok(Some(posted))
}

/// Offer reward: the first disclosure under `consent_id` pays its reserved reward from the
/// company's escrow to the citizen (not issued by the bank). Later disclosures pay nothing;
/// a consent without a reservation pays nothing.
pub fn pay_offer_reward(
    conn: &mut DbConnection,
    consent_id: &str,
    citizen_id: &str,
    paid_for: PaidFor<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Posted>, CoinsError> {
    settle(conn, consent_id, Some(citizen_id), paid_for, now)
}

/// The consent ended (revoked, expired) without any disclosure: its reservation goes back to
/// the company. After a payout it does nothing.
pub fn release_offer_reward(
    conn: &mut DbConnection,
    consent_id: &str,
    paid_for: PaidFor<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Posted>, CoinsError> {
    settle(conn, consent_id, None, paid_for, now)
}

/// A payout the bank issues to a citizen under the active policy.
struct Issue<'a> {
    key: String,
    reason: Reason,
    citizen_id: &'a str,
    /// The company whose use of her data it pays for (none for an entrust).
    company_id: Option<&'a str>,
    amount: i64,
    policy_version: i32,
    inputs: serde_json::Value,
}

/// Posts `issue` from issuance to the citizen, once per idempotency key; nothing when the
/// policy prices it at 0.
fn issue_to_citizen(
    conn: &mut DbConnection,
    issue: Issue<'_>,
    paid_for: PaidFor<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Posted>, CoinsError> {
    if issue.amount <= 0 {
        return Ok(None);
    }
    post(
        conn,
        NewEntry {
            idempotency_key: issue.key,
            reason: issue.reason,
            ref_kind: paid_for.ref_kind,
            ref_id: paid_for.ref_id,
            policy_version: Some(issue.policy_version),
            inputs: issue.inputs,
            event_leaf: Some(paid_for.event_leaf),
            actor: Actor::system(),
            company_id: issue.company_id,
            postings: vec![
                (Account::Issuance, -issue.amount),
                (Account::Citizen(issue.citizen_id), issue.amount),
            ],
        },
        now,
    )
    .map(Some)
}

/// Predicate answers: the month's first answer under `consent_id` pays
/// `predicate_answer x answered` (the predicates the bank could decide), once per consent and
/// calendar month. Later answers that month pay nothing more.
pub fn pay_predicate_answers(
    conn: &mut DbConnection,
    consent_id: &str,
    citizen_id: &str,
    company_id: &str,
    answered: i64,
    paid_for: PaidFor<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Posted>, CoinsError> {
    let policy = active(conn, now)?;
    let month = month_of(now);
    let per = policy.policy.predicate_answer;
    let inputs = json!({
        "consent": consent_id,
        "month": month,
        "answered": answered,
        "predicate_answer": per,
    });
    let issue = Issue {
        key: format!("predicates/{consent_id}/{month}"),
        reason: Reason::PredicateReward,
        citizen_id,
        company_id: Some(company_id),
        amount: per.saturating_mul(answered),
        policy_version: policy.version,
        inputs,
    };
    issue_to_citizen(conn, issue, paid_for, now)
}

fn participation_key(citizen_id: &str, offer_id: &str, month: &str) -> String {
    format!("statistics/{citizen_id}/{offer_id}/{month}")
}

/// Which of `citizen_ids` have not been paid this month's participation in `offer_id` yet. One
/// query and no lock: once paid, a citizen stays paid for the month, so a citizen missing from
/// the answer needs no payout (and a stale "unpaid" is decided again by the payout's own key).
pub fn statistics_participation_unpaid<'a>(
    conn: &mut DbConnection,
    citizen_ids: &[&'a str],
    offer_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<&'a str>, CoinsError> {
    use infobank_db::schema::coin_entries;
    let month = month_of(now);
    let mut paid = std::collections::HashSet::new();
    for chunk in citizen_ids.chunks(5_000) {
        let keys: Vec<String> = chunk.iter().map(|c| participation_key(c, offer_id, &month)).collect();
        let found: Vec<String> = coin_entries::table
            .filter(coin_entries::idempotency_key.eq_any(&keys))
            .select(coin_entries::idempotency_key)
            .load(conn)?;
        paid.extend(found);
    }
    Ok(citizen_ids
        .iter()
        .copied()
        .filter(|c| !paid.contains(&participation_key(c, offer_id, &month)))
        .collect())
}

/// Statistics participation: the first run of a month that counts the citizen in `offer_id`'s
/// statistics pays `statistics_participation`, once per citizen, offer and calendar month.
pub fn pay_statistics_participation(
    conn: &mut DbConnection,
    citizen_id: &str,
    company_id: &str,
    offer_id: &str,
    paid_for: PaidFor<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Posted>, CoinsError> {
    let policy = active(conn, now)?;
    let month = month_of(now);
    let amount = policy.policy.statistics_participation;
    let inputs = json!({
        "offer": offer_id,
        "month": month,
        "statistics_participation": amount,
    });
    let issue = Issue {
        key: participation_key(citizen_id, offer_id, &month),
        reason: Reason::StatisticsReward,
        citizen_id,
        company_id: Some(company_id),
        amount,
        policy_version: policy.version,
        inputs,
    };
    issue_to_citizen(conn, issue, paid_for, now)
}
