//! Consents: a citizen's yes to one offer, and its lifecycle
//! `active <-> paused`, `active | paused -> revoked | expired`. Every change appends an audit
//! leaf and issues a new signed receipt, in one transaction. Granting reserves the offer's reward
//! from the company (escrow); a consent that ends without any disclosure releases it.

use chrono::{DateTime, Duration, NaiveDateTime, SubsecRound as _, Utc};
use infobank_audit::{Action, Actor, AuditEvent, append};
use infobank_coins::rewards::{PaidFor, release_offer_reward, reserve_offer_reward};
use infobank_crypto::{KeyRing, TokenSigner};
use infobank_db::diesel::prelude::*;
use infobank_db::diesel::result::{DatabaseErrorKind, Error as DieselError};
use infobank_db::schema::consents;
use infobank_db::{DbConnection, write_transaction};
use infobank_db::{LockMode, Lockable, lock_rows};
use serde::Serialize;

use crate::ConsentError;
use crate::companies::{CompanyStatus, get as get_company};
use crate::offers::{Offer, get as get_offer};
use crate::pseudonym::subject;
use crate::receipts::{ReceiptInput, build, sign};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Consent {
    pub id: String,
    pub citizen_id: String,
    pub company_id: String,
    pub offer_id: String,
    /// The citizen's pseudonym for this company.
    pub subject: String,
    /// `active`, `paused`, `revoked` or `expired`.
    pub status: String,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many disclosures were made under it, and the last one.
    pub uses: i64,
    pub last_used_at: Option<DateTime<Utc>>,
    /// The latest receipt (compact JWS).
    pub receipt: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = consents)]
pub(crate) struct ConsentRow {
    pub id: String,
    pub citizen_id: String,
    pub company_id: String,
    pub offer_id: String,
    pub subject: String,
    pub status: String,
    pub granted_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub receipt: String,
    pub uses: i64,
    pub last_used_at: Option<NaiveDateTime>,
    pub quota_day: Option<String>,
    pub quota_used: i32,
}

impl From<ConsentRow> for Consent {
    fn from(row: ConsentRow) -> Self {
        Self {
            id: row.id,
            citizen_id: row.citizen_id,
            company_id: row.company_id,
            offer_id: row.offer_id,
            subject: row.subject,
            status: row.status,
            granted_at: row.granted_at.and_utc(),
            expires_at: row.expires_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            uses: row.uses,
            last_used_at: row.last_used_at.map(|t| t.and_utc()),
            receipt: row.receipt,
        }
    }
}

pub(crate) fn row(conn: &mut DbConnection, id: &str) -> Result<Option<ConsentRow>, ConsentError> {
    Ok(consents::table
        .find(id)
        .select(ConsentRow::as_select())
        .first(conn)
        .optional()?)
}

/// The key that allows one live consent per citizen and offer (NULL once it has ended).
fn live_key(citizen_id: &str, offer_id: &str) -> String {
    format!("{citizen_id}/{offer_id}")
}

/// The citizen accepts an approved offer of an approved company. Returns the consent with its
/// first receipt. A company that cannot fund the offer's reward cannot take the consent
/// (`CoinsError::OfferNotFunded`), and nothing is written.
pub fn accept(
    conn: &mut DbConnection,
    keys: &KeyRing,
    signer: &TokenSigner,
    citizen_id: &str,
    offer_id: &str,
    now: DateTime<Utc>,
) -> Result<Consent, ConsentError> {
    let now = now.trunc_subsecs(6);
    write_transaction(conn, |conn| {
        // Account, offer and company must not change under the decision (a deletion, a
        // withdrawal, a suspension); other acceptances share these locks.
        lock_rows(conn, Lockable::Accounts, &[citizen_id], LockMode::Share)?;
        lock_rows(conn, Lockable::Offers, &[offer_id], LockMode::Share)?;
        // A deleted account's access token stays valid until it expires: refuse it cleanly.
        let citizen_exists: i64 = infobank_db::schema::accounts::table
            .filter(infobank_db::schema::accounts::id.eq(citizen_id))
            .filter(infobank_db::schema::accounts::role.eq("citizen"))
            .count()
            .get_result(conn)?;
        if citizen_exists == 0 {
            return Err(ConsentError::NotFound);
        }
        let offer = get_offer(conn, offer_id).map_err(|e| match e {
            ConsentError::NotFound => ConsentError::OfferNotOpen,
            other => other,
        })?;
        lock_rows(conn, Lockable::Companies, &[&offer.company_id], LockMode::Share)?;
        let company = get_company(conn, &offer.company_id)?;
        if offer.status != "approved" || company.status != CompanyStatus::Approved {
            return Err(ConsentError::OfferNotOpen);
        }
        let id = uuid::Uuid::now_v7().to_string();
        let pseudonym = subject(keys, &company.id, citizen_id);
        let expires_at = now + Duration::days(i64::from(offer.consent_days));
        let event = AuditEvent::new(Action::ConsentGranted, Actor::new("citizen", citizen_id))
            .company(&company.id)
            .object("consent", &id)
            .object("offer", &offer.id)
            .object("subject", &pseudonym);
        let leaf = append(conn, &event, now)?;
        let paid_for = PaidFor {
            event_leaf: leaf,
            ref_kind: "consent",
            ref_id: &id,
        };
        reserve_offer_reward(conn, &company.id, &id, offer.reward_coins, paid_for, now)?;
        let receipt = sign(
            signer,
            &build(
                &ReceiptInput {
                    consent_id: &id,
                    status: "active",
                    event: Action::ConsentGranted.as_str(),
                    subject_pseudonym: &pseudonym,
                    company: &company,
                    offer: &offer,
                    granted_at: now,
                    expires_at,
                    audit_leaf: leaf,
                },
                now,
            ),
        )?;
        let inserted = diesel::insert_into(consents::table)
            .values((
                consents::id.eq(&id),
                consents::citizen_id.eq(citizen_id),
                consents::company_id.eq(&company.id),
                consents::offer_id.eq(&offer.id),
                consents::subject.eq(&pseudonym),
                consents::status.eq("active"),
                consents::granted_at.eq(now.naive_utc()),
                consents::expires_at.eq(expires_at.naive_utc()),
                consents::updated_at.eq(now.naive_utc()),
                consents::receipt.eq(&receipt),
                consents::uses.eq(0i64),
                consents::quota_used.eq(0),
                consents::live_key.eq(live_key(citizen_id, &offer.id)),
            ))
            .execute(conn);
        match inserted {
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                return Err(ConsentError::AlreadyConsented);
            }
            other => other?,
        };
        let row = row(conn, &id)?.ok_or(ConsentError::NotFound)?;
        Ok(row.into())
    })
}

/// What a citizen can do to a consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Pause,
    Resume,
    Revoke,
}

impl Change {
    fn target(self) -> &'static str {
        match self {
            Self::Pause => "paused",
            Self::Resume => "active",
            Self::Revoke => "revoked",
        }
    }

    fn action(self) -> Action {
        match self {
            Self::Pause => Action::ConsentPaused,
            Self::Resume => Action::ConsentResumed,
            Self::Revoke => Action::ConsentRevoked,
        }
    }

    fn allowed_from(self, status: &str) -> bool {
        matches!(
            (self, status),
            (Self::Pause, "active") | (Self::Resume, "paused") | (Self::Revoke, "active" | "paused")
        )
    }
}

/// The statuses of a consent that still allows access (or may again, once resumed).
const LIVE: [&str; 2] = ["active", "paused"];

fn is_live(status: &str) -> bool {
    LIVE.contains(&status)
}

/// A live consent whose time is up ends as `expired`, by the system rather than by anyone.
fn expire(
    conn: &mut DbConnection,
    signer: &TokenSigner,
    current: &ConsentRow,
    offer: &Offer,
    now: DateTime<Utc>,
) -> Result<(), ConsentError> {
    transition(
        conn,
        signer,
        current,
        offer,
        "expired",
        Action::ConsentExpired,
        Actor::system(),
        now,
    )
}

/// Moves the consent to `status` with its leaf and a new receipt; releases the reservation when
/// the consent ends. Runs in the caller's transaction.
#[allow(clippy::too_many_arguments)]
fn transition(
    conn: &mut DbConnection,
    signer: &TokenSigner,
    current: &ConsentRow,
    offer: &Offer,
    status: &str,
    action: Action,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), ConsentError> {
    let company = get_company(conn, &current.company_id)?;
    let event = AuditEvent::new(action, actor)
        .company(&current.company_id)
        .object("consent", &current.id)
        .object("subject", &current.subject);
    let leaf = append(conn, &event, now)?;
    let ended = matches!(status, "revoked" | "expired");
    if ended {
        let paid_for = PaidFor {
            event_leaf: leaf,
            ref_kind: "consent",
            ref_id: &current.id,
        };
        release_offer_reward(conn, &current.id, paid_for, now)?;
    }
    let receipt = sign(
        signer,
        &build(
            &ReceiptInput {
                consent_id: &current.id,
                status,
                event: action.as_str(),
                subject_pseudonym: &current.subject,
                company: &company,
                offer,
                granted_at: current.granted_at.and_utc(),
                expires_at: current.expires_at.and_utc(),
                audit_leaf: leaf,
            },
            now,
        ),
    )?;
    let live: Option<String> = (!ended).then(|| live_key(&current.citizen_id, &current.offer_id));
    diesel::update(consents::table.find(&current.id))
        .set((
            consents::status.eq(status),
            consents::receipt.eq(&receipt),
            consents::updated_at.eq(now.naive_utc()),
            consents::live_key.eq(live),
        ))
        .execute(conn)?;
    Ok(())
}

/// The citizen pauses, resumes or revokes one of their consents. Another citizen's consent is
/// `NotFound`; a consent past its expiry is expired first and then refuses the change.
pub fn change(
    conn: &mut DbConnection,
    signer: &TokenSigner,
    citizen_id: &str,
    consent_id: &str,
    what: Change,
    now: DateTime<Utc>,
) -> Result<Consent, ConsentError> {
    let now = now.trunc_subsecs(6);
    let outcome = write_transaction(conn, |conn| {
        lock_rows(conn, Lockable::Consents, &[consent_id], LockMode::Update)?;
        let current = row(conn, consent_id)?
            .filter(|c| c.citizen_id == citizen_id)
            .ok_or(ConsentError::NotFound)?;
        let offer = get_offer(conn, &current.offer_id)?;
        if is_live(&current.status) && current.expires_at.and_utc() <= now {
            expire(conn, signer, &current, &offer, now)?;
            // Commit the expiry; the change itself is refused below.
            return Ok(Err(ConsentError::InvalidTransition {
                from: "expired".into(),
                to: what.target().into(),
            }));
        }
        if !what.allowed_from(&current.status) {
            return Ok(Err(ConsentError::InvalidTransition {
                from: current.status.clone(),
                to: what.target().into(),
            }));
        }
        let actor = Actor::new("citizen", citizen_id);
        transition(conn, signer, &current, &offer, what.target(), what.action(), actor, now)?;
        Ok::<_, ConsentError>(Ok(()))
    })?;
    outcome?;
    get_for_citizen(conn, citizen_id, consent_id)
}

/// Locks every consent of the citizen (the first step of deleting the account).
pub(crate) fn lock_citizen_consents(conn: &mut DbConnection, citizen_id: &str) -> Result<(), ConsentError> {
    let ids: Vec<String> = consents::table
        .filter(consents::citizen_id.eq(citizen_id))
        .select(consents::id)
        .load(conn)?;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    lock_rows(conn, Lockable::Consents, &ids, LockMode::Update)?;
    Ok(())
}

/// Ends every live consent of the citizen (revoked, or expired if its time is up), each with its
/// leaf and receipt and its reservation released, inside the caller's transaction (which holds
/// the citizen's consents' locks, [`lock_citizen_consents`]). For account deletion.
pub(crate) fn end_all_in_transaction(
    conn: &mut DbConnection,
    signer: &TokenSigner,
    citizen_id: &str,
    now: DateTime<Utc>,
) -> Result<usize, ConsentError> {
    let now = now.trunc_subsecs(6);
    let live: Vec<ConsentRow> = consents::table
        .filter(consents::citizen_id.eq(citizen_id))
        .filter(consents::status.eq_any(LIVE))
        .select(ConsentRow::as_select())
        .load(conn)?;
    for current in &live {
        let offer = get_offer(conn, &current.offer_id)?;
        if current.expires_at.and_utc() <= now {
            expire(conn, signer, current, &offer, now)?;
        } else {
            let actor = Actor::new("citizen", citizen_id);
            transition(
                conn,
                signer,
                current,
                &offer,
                "revoked",
                Action::ConsentRevoked,
                actor,
                now,
            )?;
        }
    }
    Ok(live.len())
}

/// Expires every live consent whose time is up (the server runs it every minute), releasing
/// reservations. Returns how many it expired; at most `batch` per call.
pub fn expire_due(
    conn: &mut DbConnection,
    signer: &TokenSigner,
    now: DateTime<Utc>,
    batch: i64,
) -> Result<usize, ConsentError> {
    let now = now.trunc_subsecs(6);
    let due: Vec<String> = consents::table
        .filter(consents::status.eq_any(LIVE))
        .filter(consents::expires_at.le(now.naive_utc()))
        .select(consents::id)
        .limit(batch)
        .load(conn)?;
    let mut expired = 0;
    for id in due {
        let done = write_transaction(conn, |conn| {
            lock_rows(conn, Lockable::Consents, &[&id], LockMode::Update)?;
            let Some(current) = row(conn, &id)?.filter(|c| is_live(&c.status)) else {
                return Ok::<_, ConsentError>(false);
            };
            let offer = get_offer(conn, &current.offer_id)?;
            expire(conn, signer, &current, &offer, now)?;
            Ok(true)
        })?;
        expired += usize::from(done);
    }
    Ok(expired)
}

pub fn get_for_citizen(conn: &mut DbConnection, citizen_id: &str, consent_id: &str) -> Result<Consent, ConsentError> {
    row(conn, consent_id)?
        .filter(|c| c.citizen_id == citizen_id)
        .map(Consent::from)
        .ok_or(ConsentError::NotFound)
}

/// At most this many consents per page.
pub const MAX_PAGE: i64 = 200;

/// The citizen's consents, newest first, before the id `before`.
pub fn for_citizen(
    conn: &mut DbConnection,
    citizen_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<Consent>, ConsentError> {
    let mut query = consents::table
        .filter(consents::citizen_id.eq(citizen_id))
        .order(consents::id.desc())
        .limit(limit.clamp(1, MAX_PAGE))
        .select(ConsentRow::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(consents::id.lt(before.to_owned()));
    }
    Ok(query.load(conn)?.into_iter().map(Consent::from).collect())
}

/// A consent as its company sees it: the citizen only by pseudonym.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldConsent {
    pub id: String,
    pub offer_id: String,
    pub subject: String,
    pub status: String,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub uses: i64,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The consents a company holds, newest first, before the id `before`.
pub fn for_company(
    conn: &mut DbConnection,
    company_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<HeldConsent>, ConsentError> {
    // A suspended or revoked company may not read data under its consents, and not who its
    // consents are with either: the list names pseudonyms and statuses.
    match get_company(conn, company_id)?.status {
        CompanyStatus::Approved => {}
        CompanyStatus::Suspended => return Err(ConsentError::NotLive(crate::NotLive::CompanySuspended)),
        _ => return Err(ConsentError::CompanyNotApproved),
    }
    let mut query = consents::table
        .filter(consents::company_id.eq(company_id))
        .order(consents::id.desc())
        .limit(limit.clamp(1, MAX_PAGE))
        .select(ConsentRow::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(consents::id.lt(before.to_owned()));
    }
    Ok(query
        .load(conn)?
        .into_iter()
        .map(|r| HeldConsent {
            id: r.id,
            offer_id: r.offer_id,
            subject: r.subject,
            status: r.status,
            granted_at: r.granted_at.and_utc(),
            expires_at: r.expires_at.and_utc(),
            uses: r.uses,
            last_used_at: r.last_used_at.map(|t| t.and_utc()),
        })
        .collect())
}

/// A consent with what the citizen's dashboard shows next to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentSummary {
    pub consent: Consent,
    pub company_name: String,
    /// The company's status now: a suspended company's consents give no access.
    pub company_status: String,
    pub offer_title: String,
    pub purpose: String,
    pub categories: Vec<String>,
}

/// The citizen's consents with company and offer, newest first (up to `MAX_PAGE`).
pub fn dashboard(conn: &mut DbConnection, citizen_id: &str) -> Result<Vec<ConsentSummary>, ConsentError> {
    use infobank_db::schema::{companies, offers};
    let rows: Vec<(ConsentRow, String, String, String, String, String)> = consents::table
        .inner_join(companies::table)
        .inner_join(offers::table)
        .filter(consents::citizen_id.eq(citizen_id))
        .order(consents::id.desc())
        .limit(MAX_PAGE)
        .select((
            ConsentRow::as_select(),
            companies::legal_name,
            companies::status,
            offers::title,
            offers::purpose,
            offers::categories,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(
            |(row, company_name, company_status, offer_title, purpose, categories)| {
                Ok(ConsentSummary {
                    consent: row.into(),
                    company_name,
                    company_status,
                    offer_title,
                    purpose,
                    categories: serde_json::from_str(&categories).map_err(|e| ConsentError::Corrupt(e.to_string()))?,
                })
            },
        )
        .collect()
}

/// How many of the company's consents are in each status (`active`, `paused`, `revoked`,
/// `expired`).
pub fn status_counts_for_company(
    conn: &mut DbConnection,
    company_id: &str,
) -> Result<std::collections::BTreeMap<String, i64>, ConsentError> {
    let rows: Vec<(String, i64)> = consents::table
        .filter(consents::company_id.eq(company_id))
        .group_by(consents::status)
        .select((consents::status, infobank_db::diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Per offer of the company: how many consents it holds, how many are live, how many
/// disclosures were made (the company portal's counts).
pub fn counts_for_company(
    conn: &mut DbConnection,
    company_id: &str,
) -> Result<std::collections::BTreeMap<String, (i64, i64, i64)>, ConsentError> {
    let rows: Vec<(String, String, i64)> = consents::table
        .filter(consents::company_id.eq(company_id))
        .select((consents::offer_id, consents::status, consents::uses))
        .load(conn)?;
    let mut counts = std::collections::BTreeMap::new();
    for (offer, status, uses) in rows {
        let entry: &mut (i64, i64, i64) = counts.entry(offer).or_default();
        entry.0 += 1;
        entry.1 += i64::from(is_live(&status));
        entry.2 += uses;
    }
    Ok(counts)
}
