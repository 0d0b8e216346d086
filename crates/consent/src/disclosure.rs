//! Disclosure: the only way data leaves the vault. In one transaction: the consent is checked
//! live (approved company, approved offer, active, not expired, within its quota), only the
//! offer's categories within its data range are opened, the audit leaf is appended, the
//! disclosure is recorded, and the first disclosure pays the offer reward from escrow and the
//! breadth bonus. Anything failing fails it all: no data without its leaf. Nothing is cached: a
//! revocation or a suspension applies to the very next request.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, SubsecRound as _, Utc};
use infobank_audit::{Action, Actor, AuditEvent, append};
use infobank_coins::rewards::{PaidFor, pay_breadth, pay_offer_reward};
use infobank_crypto::KeyRing;
use infobank_db::diesel::prelude::*;
use infobank_db::schema::{companies, consents, disclosures};
use infobank_db::{DbConnection, write_transaction};
use infobank_db::{LockMode, Lockable, lock_rows};
use infobank_vault::Record;
use infobank_vault::categories::{Cardinality, category};
use infobank_vault::records::{MAX_PAGE as RECORDS_PAGE, list};
use serde::Serialize;
use serde_json::Value;

use crate::companies::{CompanyStatus, get as get_company};
use crate::consents::row as consent_row;
use crate::offers::{Offer, get as get_offer};
use crate::{ConsentError, NotLive};

/// One record as a company receives it: the data and when it was last changed (no vault ids).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisclosedRecord {
    pub data: Value,
    pub updated_at: DateTime<Utc>,
}

/// What the company receives.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disclosure {
    pub disclosure_id: String,
    pub consent_id: String,
    /// The citizen's pseudonym for this company.
    pub subject: String,
    pub offer_id: String,
    pub purpose: String,
    pub disclosed_at: DateTime<Utc>,
    /// The company must delete what it received by then.
    pub retain_until: DateTime<Utc>,
    /// Always `prohibited`.
    pub onward_transfer: &'static str,
    /// Per category of the offer, the records within its data range (empty if none).
    pub data: BTreeMap<String, Vec<DisclosedRecord>>,
    /// The disclosure's audit leaf (hash, hex): in the public log within the merge delay.
    pub audit_leaf_hash: String,
}

/// The day a series record is about: its `date` field if it has one, else when it was entrusted.
fn record_day(record: &Record) -> NaiveDate {
    record.data["date"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| record.created_at.date_naive())
}

fn within_range(record: &Record, offer: &Offer, today: NaiveDate) -> bool {
    let series = category(&record.category).is_some_and(|c| c.cardinality == Cardinality::Series);
    !series || record_day(record) > today - Duration::days(i64::from(offer.data_range_days))
}

/// Exactly what the offer would receive of the citizen's data on `today`: only its categories,
/// series only within its data range.
fn collect(
    conn: &mut DbConnection,
    keys: &KeyRing,
    citizen_id: &str,
    offer: &Offer,
    today: NaiveDate,
) -> Result<BTreeMap<String, Vec<DisclosedRecord>>, ConsentError> {
    let mut data = BTreeMap::new();
    for name in &offer.categories {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = list(conn, keys, citizen_id, Some(name), after.as_deref(), RECORDS_PAGE)?;
            let done = (page.len() as i64) < RECORDS_PAGE;
            after = page.last().map(|r| r.id.clone());
            out.extend(
                page.into_iter()
                    .filter(|r| within_range(r, offer, today))
                    .map(|r| DisclosedRecord {
                        data: r.data,
                        updated_at: r.updated_at,
                    }),
            );
            if done {
                break;
            }
        }
        data.insert(name.clone(), out);
    }
    Ok(data)
}

/// The citizen's preview before accepting: what the offer would receive now. Only open offers.
pub fn preview(
    conn: &mut DbConnection,
    keys: &KeyRing,
    citizen_id: &str,
    offer_id: &str,
    now: DateTime<Utc>,
) -> Result<(Offer, BTreeMap<String, Vec<DisclosedRecord>>), ConsentError> {
    let offer = get_offer(conn, offer_id)?;
    let company = get_company(conn, &offer.company_id)?;
    if offer.status != "approved" || company.status != CompanyStatus::Approved {
        return Err(ConsentError::NotFound);
    }
    let data = collect(conn, keys, citizen_id, &offer, now.date_naive())?;
    Ok((offer, data))
}

/// Why this consent cannot be used now, if it cannot.
fn refusal(
    company_status: CompanyStatus,
    offer: &Offer,
    consent_status: &str,
    expires_at: NaiveDateTime,
    quota: (Option<&str>, i32, i64),
    now: DateTime<Utc>,
) -> Option<NotLive> {
    let (quota_day, quota_used, uses) = quota;
    let today = now.date_naive().to_string();
    match company_status {
        CompanyStatus::Approved => {}
        CompanyStatus::Suspended => return Some(NotLive::CompanySuspended),
        _ => return Some(NotLive::CompanyNotApproved),
    }
    match consent_status {
        "revoked" => return Some(NotLive::Revoked),
        "expired" => return Some(NotLive::Expired),
        "paused" => return Some(NotLive::Paused),
        _ => {}
    }
    if expires_at.and_utc() <= now {
        return Some(NotLive::Expired);
    }
    if offer.status != "approved" {
        return Some(NotLive::OfferWithdrawn);
    }
    let used_today = if quota_day == Some(today.as_str()) {
        quota_used
    } else {
        0
    };
    if (offer.access == "one_time" && uses >= 1) || used_today >= offer.max_fetches_per_day {
        return Some(NotLive::QuotaExceeded);
    }
    None
}

/// The disclosure itself, for `company_id` (from its access token) and `consent_id`.
pub fn disclose(
    conn: &mut DbConnection,
    keys: &KeyRing,
    company_id: &str,
    consent_id: &str,
    now: DateTime<Utc>,
) -> Result<Disclosure, ConsentError> {
    let now = now.trunc_subsecs(6);
    write_transaction(conn, |conn| {
        // The consent's row lock keeps the quota and first-use checks true until commit; the
        // company and offer are held in share mode against a suspension or withdrawal. Other
        // consents' disclosures wait for none of these.
        lock_rows(conn, Lockable::Consents, &[consent_id], LockMode::Update)?;
        let consent = consent_row(conn, consent_id)?
            .filter(|c| c.company_id == company_id)
            .ok_or(ConsentError::NotFound)?;
        lock_rows(conn, Lockable::Companies, &[company_id], LockMode::Share)?;
        let company_status: String = companies::table
            .find(company_id)
            .select(companies::status)
            .first(conn)?;
        let company_status = CompanyStatus::parse(&company_status)
            .ok_or_else(|| ConsentError::Corrupt(format!("company status {company_status}")))?;
        lock_rows(conn, Lockable::Offers, &[&consent.offer_id], LockMode::Share)?;
        let offer = get_offer(conn, &consent.offer_id)?;
        let quota = (consent.quota_day.as_deref(), consent.quota_used, consent.uses);
        if let Some(why) = refusal(company_status, &offer, &consent.status, consent.expires_at, quota, now) {
            return Err(ConsentError::NotLive(why));
        }

        let today = now.date_naive();
        let data = collect(conn, keys, &consent.citizen_id, &offer, today)?;
        let count: usize = data.values().map(Vec::len).sum();

        let disclosure_id = uuid::Uuid::now_v7().to_string();
        let event = AuditEvent::new(Action::DataDisclosed, Actor::new("company", company_id))
            .company(company_id)
            .object("consent", consent_id)
            .object("disclosure", &disclosure_id)
            .object("subject", &consent.subject)
            .object("categories", &offer.categories.join(","));
        let leaf = append(conn, &event, now)?;
        let categories = serde_json::to_string(&offer.categories).map_err(|e| ConsentError::Corrupt(e.to_string()))?;
        diesel::insert_into(disclosures::table)
            .values((
                disclosures::id.eq(&disclosure_id),
                disclosures::consent_id.eq(consent_id),
                disclosures::citizen_id.eq(&consent.citizen_id),
                disclosures::company_id.eq(company_id),
                disclosures::categories.eq(&categories),
                disclosures::record_count.eq(i32::try_from(count).unwrap_or(i32::MAX)),
                disclosures::audit_leaf_hash.eq(leaf.as_slice()),
                disclosures::disclosed_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
        let today_text = today.to_string();
        let used_today = if consent.quota_day.as_deref() == Some(today_text.as_str()) {
            consent.quota_used
        } else {
            0
        };
        diesel::update(consents::table.find(consent_id))
            .set((
                consents::uses.eq(consent.uses + 1),
                consents::last_used_at.eq(Some(now.naive_utc())),
                consents::quota_day.eq(Some(&today_text)),
                consents::quota_used.eq(used_today + 1),
            ))
            .execute(conn)?;

        let paid_for = PaidFor {
            event_leaf: leaf,
            ref_kind: "disclosure",
            ref_id: &disclosure_id,
        };
        if consent.uses == 0 {
            pay_offer_reward(conn, consent_id, &consent.citizen_id, paid_for, now)?;
        }
        pay_breadth(conn, &consent.citizen_id, company_id, paid_for, now)?;

        Ok(Disclosure {
            disclosure_id,
            consent_id: consent_id.to_owned(),
            subject: consent.subject,
            offer_id: offer.id.clone(),
            purpose: offer.purpose.clone(),
            disclosed_at: now,
            retain_until: now + Duration::days(i64::from(offer.retention_days)),
            onward_transfer: "prohibited",
            data,
            audit_leaf_hash: infobank_audit::merkle::to_hex(&leaf),
        })
    })
}

/// One disclosure as the citizen sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisclosureRecord {
    pub id: String,
    pub consent_id: String,
    pub company_id: String,
    pub company_name: String,
    pub categories: Vec<String>,
    pub record_count: i32,
    /// The disclosure's audit leaf (hash, hex).
    pub audit_leaf_hash: String,
    pub disclosed_at: DateTime<Utc>,
}

/// At most this many disclosures per page.
pub const MAX_PAGE: i64 = 200;

/// Who received what of the citizen's data, when, under which consent. Newest first.
pub fn for_citizen(
    conn: &mut DbConnection,
    citizen_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<DisclosureRecord>, ConsentError> {
    type Row = (String, String, String, String, String, i32, Vec<u8>, NaiveDateTime);
    let mut query = disclosures::table
        .inner_join(companies::table.on(companies::id.eq(disclosures::company_id)))
        .filter(disclosures::citizen_id.eq(citizen_id))
        .order(disclosures::id.desc())
        .limit(limit.clamp(1, MAX_PAGE))
        .select((
            disclosures::id,
            disclosures::consent_id,
            disclosures::company_id,
            companies::legal_name,
            disclosures::categories,
            disclosures::record_count,
            disclosures::audit_leaf_hash,
            disclosures::disclosed_at,
        ))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(disclosures::id.lt(before.to_owned()));
    }
    let rows: Vec<Row> = query.load(conn)?;
    rows.into_iter()
        .map(|r| {
            Ok(DisclosureRecord {
                categories: serde_json::from_str(&r.4).map_err(|e| ConsentError::Corrupt(e.to_string()))?,
                id: r.0,
                consent_id: r.1,
                company_id: r.2,
                company_name: r.3,
                record_count: r.5,
                audit_leaf_hash: r
                    .6
                    .as_slice()
                    .try_into()
                    .map(|h| infobank_audit::merkle::to_hex(&h))
                    .map_err(|_| ConsentError::Corrupt("stored leaf hash is not 32 bytes".into()))?,
                disclosed_at: r.7.and_utc(),
            })
        })
        .collect()
}

/// The company's name, for views.
pub fn company_name(conn: &mut DbConnection, company_id: &str) -> Result<String, ConsentError> {
    Ok(get_company(conn, company_id)?.legal_name)
}
