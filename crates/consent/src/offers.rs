//! Offers: what an approved company asks for, for which purpose, for how long, and what it pays.
//! Only offers the operator's ethics review approved reach citizens. Onward transfer to third
//! parties is always prohibited (it is not a field: there is no way to ask for it).

use chrono::{DateTime, NaiveDateTime, SubsecRound as _, Utc};
use infobank_audit::{Action, Actor, AuditEvent, append};
use infobank_db::diesel::prelude::*;
use infobank_db::schema::{companies, offer_asks, offers};
use infobank_db::{DbConnection, write_transaction};
use infobank_db::{LockMode, Lockable, lock_rows};
use infobank_vault::categories::{Sensitivity, category};
use serde::Serialize;

use crate::companies::{CompanyStatus, get as get_company};
use crate::predicates::{self, Predicate};
use crate::purposes::purpose;
use crate::statistics::catalogue::{self as statistics, StatisticsSpec};
use crate::{ConsentError, check_text};

/// What an offer asks for: raw records (the default), yes/no answers, or statistics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ask {
    /// The records of `categories` within the data range.
    Records,
    /// Only these predicates' answers (`categories` lists what they read).
    Predicates { predicates: Vec<Predicate> },
    /// Only k-anonymous cells over the consenting citizens (`categories` lists what they read).
    Statistics { statistics: StatisticsSpec },
}

impl Ask {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Records => "records",
            Self::Predicates { .. } => "predicates",
            Self::Statistics { .. } => "statistics",
        }
    }
}

/// What a company proposes.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub title: String,
    pub description: String,
    pub purpose: String,
    /// The categories of a records offer; empty for predicates and statistics (derived).
    pub categories: Vec<String>,
    pub ask: Ask,
    pub data_range_days: i32,
    pub access: String,
    pub max_fetches_per_day: i32,
    pub retention_days: i32,
    pub consent_days: i32,
    pub reward_coins: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Offer {
    pub id: String,
    pub company_id: String,
    pub title: String,
    pub description: String,
    pub purpose: String,
    /// The categories the offer reads (for records: the categories disclosed).
    pub categories: Vec<String>,
    /// `kind` (`records`, `predicates` or `statistics`) and what it asks.
    #[serde(flatten)]
    pub ask: Ask,
    /// For series (moods, payments, …): only the last N days are disclosed.
    pub data_range_days: i32,
    /// `one_time` (one disclosure) or `periodic` (up to `max_fetches_per_day` a day).
    pub access: String,
    pub max_fetches_per_day: i32,
    /// How long the company may keep what it receives.
    pub retention_days: i32,
    /// How long a consent lasts (at most 365 days).
    pub consent_days: i32,
    pub reward_coins: i64,
    /// `pending_review`, `approved` or `rejected`.
    pub status: String,
    pub review_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
    /// Always `prohibited`: said on every offer, receipt and disclosure.
    pub onward_transfer: &'static str,
    /// The categories asked for that are `special` (data needing special care): the portal
    /// shows an explicit warning.
    pub special_categories: Vec<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = offers)]
pub(crate) struct OfferRow {
    id: String,
    company_id: String,
    title: String,
    description: String,
    purpose: String,
    categories: String,
    data_range_days: i32,
    access: String,
    max_fetches_per_day: i32,
    retention_days: i32,
    consent_days: i32,
    reward_coins: i64,
    status: String,
    review_reason: Option<String>,
    created_at: NaiveDateTime,
    reviewed_at: Option<NaiveDateTime>,
}

/// An offer's row in `offer_asks` (`kind`, `spec`), absent for a records offer.
pub(crate) type AskRow = Option<(String, String)>;

fn ask_from(row: AskRow) -> Result<Ask, ConsentError> {
    let corrupt = |e: serde_json::Error| ConsentError::Corrupt(format!("offer ask: {e}"));
    Ok(match row {
        None => Ask::Records,
        Some((kind, spec)) if kind == "predicates" => Ask::Predicates {
            predicates: serde_json::from_str(&spec).map_err(corrupt)?,
        },
        Some((kind, spec)) if kind == "statistics" => Ask::Statistics {
            statistics: serde_json::from_str(&spec).map_err(corrupt)?,
        },
        Some((kind, _)) => return Err(ConsentError::Corrupt(format!("offer kind {kind}"))),
    })
}

impl TryFrom<(OfferRow, AskRow)> for Offer {
    type Error = ConsentError;

    fn try_from((row, ask): (OfferRow, AskRow)) -> Result<Self, ConsentError> {
        let categories: Vec<String> = serde_json::from_str(&row.categories)
            .map_err(|e| ConsentError::Corrupt(format!("offer categories: {e}")))?;
        let special_categories = categories
            .iter()
            .filter(|c| category(c).is_some_and(|c| c.sensitivity == Sensitivity::Special))
            .cloned()
            .collect();
        Ok(Self {
            id: row.id,
            company_id: row.company_id,
            title: row.title,
            description: row.description,
            purpose: row.purpose,
            categories,
            ask: ask_from(ask)?,
            data_range_days: row.data_range_days,
            access: row.access,
            max_fetches_per_day: row.max_fetches_per_day,
            retention_days: row.retention_days,
            consent_days: row.consent_days,
            reward_coins: row.reward_coins,
            status: row.status,
            review_reason: row.review_reason,
            created_at: row.created_at.and_utc(),
            reviewed_at: row.reviewed_at.map(|t| t.and_utc()),
            onward_transfer: "prohibited",
            special_categories,
        })
    }
}

fn in_range(field: &'static str, value: i64, range: std::ops::RangeInclusive<i64>) -> Result<(), ConsentError> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(ConsentError::invalid(
            field,
            format!("must be {} to {}", range.start(), range.end()),
        ))
    }
}

fn validate(p: &Proposal) -> Result<Proposal, ConsentError> {
    let title = check_text("title", &p.title, 120)?;
    let description = check_text("description", &p.description, 2000)?;
    if purpose(&p.purpose).is_none() {
        return Err(ConsentError::invalid(
            "purpose",
            "not a listed purpose; see docs/partner-guide.md",
        ));
    }
    let (ask, asked) = match &p.ask {
        Ask::Records => (Ask::Records, p.categories.clone()),
        Ask::Predicates { predicates: asked } => {
            no_categories(p)?;
            let predicates = predicates::validate(asked)?;
            let read = predicates::categories_read(&predicates);
            (Ask::Predicates { predicates }, read)
        }
        Ask::Statistics { statistics: asked } => {
            no_categories(p)?;
            let statistics = statistics::validate(asked)?;
            let read = statistics.categories_read();
            (Ask::Statistics { statistics }, read)
        }
    };
    if asked.is_empty() || asked.len() > 16 {
        return Err(ConsentError::invalid("categories", "ask for 1 to 16 categories"));
    }
    let mut categories = Vec::with_capacity(asked.len());
    for name in &asked {
        let Some(cat) = category(name) else {
            return Err(ConsentError::invalid("categories", format!("no category {name}")));
        };
        if categories.contains(&cat.name.to_owned()) {
            return Err(ConsentError::invalid("categories", format!("{name} is listed twice")));
        }
        categories.push(cat.name.to_owned());
    }
    // Predicates carry their own windows (`days`): the range is the longest of them.
    let data_range_days = match &ask {
        Ask::Predicates { predicates } => predicates
            .iter()
            .filter_map(|p| p.params.get("days").and_then(serde_json::Value::as_i64))
            .max()
            .map_or(1, |d| i32::try_from(d).unwrap_or(i32::MAX)),
        _ => p.data_range_days,
    };
    in_range("data_range_days", i64::from(data_range_days), 1..=3650)?;
    match p.access.as_str() {
        "one_time" => in_range("max_fetches_per_day", i64::from(p.max_fetches_per_day), 1..=1)?,
        "periodic" => in_range("max_fetches_per_day", i64::from(p.max_fetches_per_day), 1..=1440)?,
        _ => return Err(ConsentError::invalid("access", "must be one_time or periodic")),
    }
    in_range("retention_days", i64::from(p.retention_days), 1..=3650)?;
    in_range("consent_days", i64::from(p.consent_days), 1..=365)?;
    in_range("reward_coins", p.reward_coins, 0..=1_000_000)?;
    Ok(Proposal {
        title,
        description,
        categories,
        ask,
        data_range_days,
        ..p.clone()
    })
}

/// Predicates and statistics name what they read themselves.
fn no_categories(p: &Proposal) -> Result<(), ConsentError> {
    if p.categories.is_empty() {
        Ok(())
    } else {
        Err(ConsentError::invalid(
            "categories",
            format!(
                "a {} offer names no categories: they follow from what it asks",
                p.ask.kind()
            ),
        ))
    }
}

/// An approved company proposes an offer; it waits for the operator's review.
pub fn propose(
    conn: &mut DbConnection,
    company_id: &str,
    proposal: &Proposal,
    now: DateTime<Utc>,
) -> Result<Offer, ConsentError> {
    let now = now.trunc_subsecs(6);
    let p = validate(proposal)?;
    let id = uuid::Uuid::now_v7().to_string();
    let categories = serde_json::to_string(&p.categories).map_err(|e| ConsentError::Corrupt(e.to_string()))?;
    write_transaction(conn, |conn| {
        if get_company(conn, company_id)?.status != CompanyStatus::Approved {
            return Err(ConsentError::CompanyNotApproved);
        }
        diesel::insert_into(offers::table)
            .values((
                offers::id.eq(&id),
                offers::company_id.eq(company_id),
                offers::title.eq(&p.title),
                offers::description.eq(&p.description),
                offers::purpose.eq(&p.purpose),
                offers::categories.eq(&categories),
                offers::data_range_days.eq(p.data_range_days),
                offers::access.eq(&p.access),
                offers::max_fetches_per_day.eq(p.max_fetches_per_day),
                offers::retention_days.eq(p.retention_days),
                offers::consent_days.eq(p.consent_days),
                offers::reward_coins.eq(p.reward_coins),
                offers::status.eq("pending_review"),
                offers::created_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
        let spec = match &p.ask {
            Ask::Records => None,
            Ask::Predicates { predicates } => Some(serde_json::to_string(predicates)),
            Ask::Statistics { statistics } => Some(serde_json::to_string(statistics)),
        };
        if let Some(spec) = spec {
            let spec = spec.map_err(|e| ConsentError::Corrupt(e.to_string()))?;
            diesel::insert_into(offer_asks::table)
                .values((
                    offer_asks::offer_id.eq(&id),
                    offer_asks::kind.eq(p.ask.kind()),
                    offer_asks::spec.eq(spec),
                ))
                .execute(conn)?;
        }
        let event = AuditEvent::new(Action::OfferProposed, Actor::new("company", company_id))
            .company(company_id)
            .object("offer", &id);
        append(conn, &event, now)?;
        get(conn, &id)
    })
}

pub fn get(conn: &mut DbConnection, id: &str) -> Result<Offer, ConsentError> {
    offers::table
        .left_join(offer_asks::table)
        .filter(offers::id.eq(id))
        .select((OfferRow::as_select(), ASK_COLUMNS.nullable()))
        .first::<(OfferRow, AskRow)>(conn)
        .optional()?
        .ok_or(ConsentError::NotFound)?
        .try_into()
}

/// The operator's ethics review: approve or reject (with a reason) an offer pending review.
pub fn review(
    conn: &mut DbConnection,
    offer_id: &str,
    approve: bool,
    reason: Option<&str>,
    operator_id: &str,
    now: DateTime<Utc>,
) -> Result<Offer, ConsentError> {
    let now = now.trunc_subsecs(6);
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_none() && !approve {
        return Err(ConsentError::ReasonRequired);
    }
    if let Some(r) = reason {
        check_text("reason", r, 1000)?;
    }
    let to = if approve { "approved" } else { "rejected" };
    write_transaction(conn, |conn| {
        lock_rows(conn, Lockable::Offers, &[offer_id], LockMode::Update)?;
        let offer = get(conn, offer_id)?;
        if offer.status != "pending_review" {
            return Err(ConsentError::InvalidTransition {
                from: offer.status,
                to: to.into(),
            });
        }
        diesel::update(offers::table.find(offer_id))
            .set((
                offers::status.eq(to),
                offers::review_reason.eq(reason),
                offers::reviewed_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
        let event = AuditEvent::new(Action::OfferReviewed, Actor::new("operator", operator_id))
            .company(&offer.company_id)
            .object("offer", offer_id)
            .object("decision", to);
        append(conn, &event, now)?;
        get(conn, offer_id)
    })
}

/// The `offer_asks` columns loaded with an offer (through a left join).
pub(crate) const ASK_COLUMNS: (offer_asks::kind, offer_asks::spec) = (offer_asks::kind, offer_asks::spec);

/// At most this many offers per page.
pub const MAX_PAGE: i64 = 200;

/// A company's own offers, newest first.
pub fn for_company(conn: &mut DbConnection, company_id: &str, limit: i64) -> Result<Vec<Offer>, ConsentError> {
    offers::table
        .left_join(offer_asks::table)
        .filter(offers::company_id.eq(company_id))
        .order(offers::id.desc())
        .limit(limit.clamp(1, MAX_PAGE))
        .select((OfferRow::as_select(), ASK_COLUMNS.nullable()))
        .load::<(OfferRow, AskRow)>(conn)?
        .into_iter()
        .map(Offer::try_from)
        .collect()
}

/// Offers citizens can accept: approved, from a company that is approved now. Newest first.
pub fn open(conn: &mut DbConnection, limit: i64) -> Result<Vec<Offer>, ConsentError> {
    offers::table
        .inner_join(companies::table)
        .left_join(offer_asks::table)
        .filter(offers::status.eq("approved"))
        .filter(companies::status.eq(CompanyStatus::Approved.as_str()))
        .order(offers::id.desc())
        .limit(limit.clamp(1, MAX_PAGE))
        .select((OfferRow::as_select(), ASK_COLUMNS.nullable()))
        .load::<(OfferRow, AskRow)>(conn)?
        .into_iter()
        .map(Offer::try_from)
        .collect()
}

/// How many offers wait for the ethics review.
pub fn count_pending(conn: &mut DbConnection) -> Result<i64, ConsentError> {
    Ok(offers::table
        .filter(offers::status.eq("pending_review"))
        .count()
        .get_result(conn)?)
}

/// The review queue, oldest first.
pub fn pending(conn: &mut DbConnection, limit: i64) -> Result<Vec<Offer>, ConsentError> {
    offers::table
        .left_join(offer_asks::table)
        .filter(offers::status.eq("pending_review"))
        .order(offers::id.asc())
        .limit(limit.clamp(1, MAX_PAGE))
        .select((OfferRow::as_select(), ASK_COLUMNS.nullable()))
        .load::<(OfferRow, AskRow)>(conn)?
        .into_iter()
        .map(Offer::try_from)
        .collect()
}
