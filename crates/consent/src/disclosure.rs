//! Disclosure: the only way data leaves the vault. In one transaction: the consent is checked
//! live (approved company, approved offer, active, not expired, within its quota), only the
//! offer's categories within its data range are opened, the audit leaf is appended, the
//! disclosure is recorded, and the first disclosure pays the offer reward from escrow and the
//! breadth bonus. Anything failing fails it all: no data without its leaf. Nothing is cached: a
//! revocation or a suspension applies to the very next request.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, SubsecRound as _, Utc};
use infobank_accounts::{data_key, unwrap_data_key};
use infobank_audit::log::queue;
use infobank_audit::{Action, Actor, AuditEvent, PreparedLeaf};
use infobank_coins::rewards::pay_predicate_answers;
use infobank_coins::rewards::{PaidFor, breadth_due, pay_breadth, pay_offer_reward};
use infobank_crypto::{DataKey, KeyRing, TokenSigner};
use infobank_db::diesel::prelude::*;
use infobank_db::schema::{accounts, companies, consents, disclosures, offer_asks, offers};
use infobank_db::{DbConnection, write_transaction};
use infobank_vault::categories::{Cardinality, category};
use infobank_vault::records::in_categories;
use infobank_vault::{Record, VaultError};
use serde::Serialize;
use serde_json::Value;

use crate::companies::{CompanyStatus, get as get_company};
use crate::consents::ConsentRow;
use crate::offers::{ASK_COLUMNS, Ask, AskRow, Offer, OfferRow, get as get_offer};
use crate::predicates::{Answer, Held, answer_all};
use crate::{ConsentError, NotLive};

/// One record as a company receives it: the data and when it was last changed (no vault ids).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisclosedRecord {
    pub data: Value,
    pub updated_at: DateTime<Utc>,
}

/// What every disclosure tells the company, records or answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisclosureTerms {
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
}

/// What the company receives from a records offer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disclosure {
    #[serde(flatten)]
    pub terms: DisclosureTerms,
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

/// Whether the record is within what the offer reads: series only within its data range. A
/// predicate offer reads whole categories (a document held for years is still held today), and
/// each predicate keeps to its own window (`spend_at_least`'s `days`).
fn within_range(record: &Record, offer: &Offer, today: NaiveDate) -> bool {
    let series = category(&record.category).is_some_and(|c| c.cardinality == Cardinality::Series);
    let windowed = !matches!(offer.ask, Ask::Predicates { .. });
    !series || !windowed || record_day(record) > today - Duration::days(i64::from(offer.data_range_days))
}

/// Exactly what the offer would receive of the citizen's data on `today`: only its categories,
/// series only within its data range. `dek` is the citizen's data key.
fn collect(
    conn: &mut DbConnection,
    dek: &DataKey,
    citizen_id: &str,
    offer: &Offer,
    today: NaiveDate,
) -> Result<BTreeMap<String, Vec<DisclosedRecord>>, ConsentError> {
    Ok(within(
        in_categories(conn, dek, citizen_id, &offer.categories)?,
        offer,
        today,
    ))
}

/// Of a citizen's records of the offer's categories, what the offer reads on `today`.
pub(crate) fn within(
    records: BTreeMap<String, Vec<Record>>,
    offer: &Offer,
    today: NaiveDate,
) -> BTreeMap<String, Vec<DisclosedRecord>> {
    records
        .into_iter()
        .map(|(name, records)| {
            let within = records
                .into_iter()
                .filter(|r| within_range(r, offer, today))
                .map(|r| DisclosedRecord {
                    data: r.data,
                    updated_at: r.updated_at,
                })
                .collect();
            (name, within)
        })
        .collect()
}

/// What accepting an offer would give its company now, as the citizen previews it.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub offer: Offer,
    /// A records offer's records, per category (empty for the other kinds: they get no record).
    pub would_share: BTreeMap<String, Vec<DisclosedRecord>>,
    /// A predicate offer's answers, computed from exactly what it reads.
    pub would_answer: Option<Vec<Answer>>,
}

/// The citizen's preview before accepting: what the offer would receive now. Only open offers.
pub fn preview(
    conn: &mut DbConnection,
    keys: &KeyRing,
    citizen_id: &str,
    offer_id: &str,
    now: DateTime<Utc>,
) -> Result<Preview, ConsentError> {
    let offer = get_offer(conn, offer_id)?;
    let company = get_company(conn, &offer.company_id)?;
    if offer.status != "approved" || company.status != CompanyStatus::Approved {
        return Err(ConsentError::NotFound);
    }
    let dek = data_key(conn, keys, citizen_id).map_err(VaultError::from)?;
    let data = collect(conn, &dek, citizen_id, &offer, now.date_naive())?;
    let (would_share, would_answer) = match &offer.ask {
        Ask::Records => (data, None),
        Ask::Predicates { predicates } => (
            BTreeMap::new(),
            Some(answer_all(predicates, &held(&data), now.date_naive())),
        ),
        Ask::Statistics { .. } => (BTreeMap::new(), None),
    };
    Ok(Preview {
        offer,
        would_share,
        would_answer,
    })
}

/// What a disclosure decides on: the consent, its offer and the company's status.
struct Grant {
    consent: ConsentRow,
    offer: Offer,
    company_status: CompanyStatus,
}

/// The citizen's data key as stored: wrapped, and the version of the key that wraps it.
type WrappedKey = (Vec<u8>, i32);

impl Grant {
    /// Why this consent cannot be used now, if it cannot.
    fn refusal(&self, now: DateTime<Utc>) -> Option<NotLive> {
        let (consent, offer) = (&self.consent, &self.offer);
        match self.company_status {
            CompanyStatus::Approved => {}
            CompanyStatus::Suspended => return Some(NotLive::CompanySuspended),
            _ => return Some(NotLive::CompanyNotApproved),
        }
        match consent.status.as_str() {
            "revoked" => return Some(NotLive::Revoked),
            "expired" => return Some(NotLive::Expired),
            "paused" => return Some(NotLive::Paused),
            _ => {}
        }
        if consent.expires_at.and_utc() <= now {
            return Some(NotLive::Expired);
        }
        if offer.status != "approved" {
            return Some(NotLive::OfferWithdrawn);
        }
        if (offer.access == "one_time" && consent.uses >= 1)
            || self.used_on(now.date_naive()) >= offer.max_fetches_per_day
        {
            return Some(NotLive::QuotaExceeded);
        }
        None
    }

    /// Disclosures made under the consent on `day` (the quota counts per day).
    fn used_on(&self, day: NaiveDate) -> i32 {
        if self.consent.quota_day.as_deref() == Some(day.to_string().as_str()) {
            self.consent.quota_used
        } else {
            0
        }
    }
}

/// The consent with its offer, the company's status and the citizen's wrapped data key, in one
/// query; `None` unless `company_id` holds the consent.
fn read_grant(
    conn: &mut DbConnection,
    company_id: &str,
    consent_id: &str,
) -> Result<Option<(Grant, WrappedKey)>, ConsentError> {
    let row: Option<(ConsentRow, OfferRow, AskRow, String, WrappedKey)> = consents::table
        .inner_join(offers::table.on(offers::id.eq(consents::offer_id)))
        .left_join(offer_asks::table.on(offer_asks::offer_id.eq(offers::id)))
        .inner_join(companies::table.on(companies::id.eq(consents::company_id)))
        .inner_join(accounts::table.on(accounts::id.eq(consents::citizen_id)))
        .filter(consents::id.eq(consent_id))
        .filter(consents::company_id.eq(company_id))
        .select((
            ConsentRow::as_select(),
            OfferRow::as_select(),
            ASK_COLUMNS.nullable(),
            companies::status,
            (accounts::dek_wrapped, accounts::kek_version),
        ))
        .first(conn)
        .optional()?;
    row.map(|(consent, offer, ask, status, key)| {
        let grant = Grant {
            consent,
            offer: (offer, ask).try_into()?,
            company_status: company_status(&status)?,
        };
        Ok((grant, key))
    })
    .transpose()
}

fn company_status(stored: &str) -> Result<CompanyStatus, ConsentError> {
    CompanyStatus::parse(stored).ok_or_else(|| ConsentError::Corrupt(format!("company status {stored}")))
}

/// Inside the write transaction: the consent as committed now, locked until commit (PostgreSQL:
/// the consent row `FOR UPDATE`, so that the quota and first-use decisions stay true; the offer
/// and company rows `FOR SHARE`, against a withdrawal or suspension committing in between; on
/// SQLite the one writer already excludes every other write). Two statements, each cached.
fn lock_grant(conn: &mut DbConnection, read: Grant) -> Result<Grant, ConsentError> {
    // Built per backend: `as_select` is typed by the backend it loads from.
    macro_rules! consent {
        () => {
            consents::table
                .find(read.consent.id.as_str())
                .select(ConsentRow::as_select())
        };
    }
    macro_rules! statuses {
        () => {
            offers::table
                .inner_join(companies::table.on(companies::id.eq(offers::company_id)))
                .filter(offers::id.eq(read.offer.id.as_str()))
                .select((offers::status, companies::status))
        };
    }
    let (consent, statuses): (Option<ConsentRow>, Option<(String, String)>) = match conn {
        DbConnection::Postgres(pg) => (
            consent!().for_update().first(pg).optional()?,
            statuses!().for_share().first(pg).optional()?,
        ),
        DbConnection::Sqlite(sqlite) => (
            consent!().first(sqlite).optional()?,
            statuses!().first(sqlite).optional()?,
        ),
    };
    // Gone since the read: the account was deleted in between.
    let (Some(consent), Some((offer_status, company_status_now))) = (consent, statuses) else {
        return Err(ConsentError::NotFound);
    };
    Ok(Grant {
        consent,
        offer: Offer {
            status: offer_status,
            ..read.offer
        },
        company_status: company_status(&company_status_now)?,
    })
}

/// A predicate offer's answer: the values, and the bank's signed attestation of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredicateDisclosure {
    #[serde(flatten)]
    pub terms: DisclosureTerms,
    /// Each predicate with its value: `true`, `false`, or `null` when the citizen holds no
    /// record to decide it.
    pub predicates: Vec<Answer>,
    /// A compact JWS (EdDSA, key in /.well-known/jwks.json) over [`Attestation`].
    pub attestation: String,
    pub audit_leaf_hash: String,
}

/// What the bank attests to a company about one citizen: the answers, nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Attestation {
    pub iss: String,
    /// The company's pseudonym of the citizen.
    pub sub: String,
    /// The company the answers were given to (its id).
    pub aud: String,
    /// The disclosure's id.
    pub jti: String,
    /// `predicate-answers`: not an access token, not a receipt.
    pub typ: String,
    pub consent_id: String,
    pub offer_id: String,
    pub predicates: Vec<Answer>,
    pub audit_leaf_hash: String,
    pub iat: i64,
    pub exp: i64,
}

/// What a company receives from `GET /consents/{id}/data`: records or answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Disclosed {
    Records(Disclosure),
    Predicates(PredicateDisclosure),
}

/// How answers are signed: by the bank's token key, valid for `ttl`.
#[derive(Clone, Copy)]
pub struct Attesting<'a> {
    pub signer: &'a TokenSigner,
    pub ttl: Duration,
}

/// The citizen's records as the predicates read them (their data objects).
pub(crate) fn held(data: &BTreeMap<String, Vec<DisclosedRecord>>) -> Held {
    data.iter()
        .map(|(name, records)| (name.clone(), records.iter().map(|r| r.data.clone()).collect()))
        .collect()
}

/// The sealed answer's associated data: it opens only as this citizen's answer of this
/// disclosure.
pub(crate) fn answer_aad(citizen_id: &str, disclosure_id: &str) -> Vec<u8> {
    format!("infobank/disclosure-answer/v1/{citizen_id}/{disclosure_id}").into_bytes()
}

/// The disclosure itself, for `company_id` (from its access token) and `consent_id`: the
/// records of a records offer, the answers of a predicate offer. A statistics offer has no
/// per-citizen disclosure (`ConsentError::StatisticsOnly`).
///
/// The reads come first, on the caller's connection and outside the write transaction: the
/// consent with its offer, company and the citizen's wrapped data key (one query), then the
/// offer's records (one query), opened with that key, and the audit leaf built and hashed. Then
/// the write transaction (SQLite: one job of the group commit; PostgreSQL: the consent's row
/// lock) re-checks what the reads relied on against the committed state (status, expiry, quota,
/// offer and company) and does only the writes. A record changed in between is disclosed as it
/// was read, which is what a disclosure that committed a moment earlier would have returned; a
/// consent revoked or a company suspended in between is refused. Answers are computed from the
/// same read and never leave the bank as records.
pub fn disclose(
    conn: &mut DbConnection,
    keys: &KeyRing,
    attesting: Attesting<'_>,
    company_id: &str,
    consent_id: &str,
    now: DateTime<Utc>,
) -> Result<Disclosed, ConsentError> {
    let now = now.trunc_subsecs(6);
    let today = now.date_naive();
    let (read, (wrapped, kek_version)) = read_grant(conn, company_id, consent_id)?.ok_or(ConsentError::NotFound)?;
    if let Some(why) = read.refusal(now) {
        return Err(ConsentError::NotLive(why));
    }
    if matches!(read.offer.ask, Ask::Statistics { .. }) {
        return Err(ConsentError::StatisticsOnly);
    }
    let citizen_id = read.consent.citizen_id.clone();
    let dek = unwrap_data_key(keys, &citizen_id, kek_version, &wrapped).map_err(VaultError::from)?;
    let data = collect(conn, &dek, &citizen_id, &read.offer, today)?;
    let disclosure_id = uuid::Uuid::now_v7().to_string();
    let answers = match &read.offer.ask {
        Ask::Predicates { predicates } => Some(answer_all(predicates, &held(&data), today)),
        _ => None,
    };
    let mut event = AuditEvent::new(Action::DataDisclosed, Actor::new("company", company_id))
        .company(company_id)
        .object("consent", consent_id)
        .object("disclosure", &disclosure_id)
        .object("subject", &read.consent.subject)
        .object("categories", &read.offer.categories.join(","));
    let (kind, count, sealed) = match &answers {
        None => ("records", data.values().map(Vec::len).sum(), None),
        Some(answers) => {
            let names: Vec<&str> = answers.iter().map(|a| a.name.as_str()).collect();
            event = event.object("predicates", &names.join(","));
            let plain = serde_json::to_vec(answers).map_err(|e| ConsentError::Corrupt(e.to_string()))?;
            let sealed = dek
                .seal(&answer_aad(&citizen_id, &disclosure_id), &plain)
                .map_err(|e| ConsentError::Corrupt(format!("sealing the answer: {e}")))?;
            ("predicates", answers.len(), Some(sealed))
        }
    };
    let answered = answers
        .as_ref()
        .map_or(0, |a| a.iter().filter(|a| a.value.is_some()).count());
    let leaf = PreparedLeaf::new(&event, now)?;
    let categories = serde_json::to_string(&read.offer.categories).map_err(|e| ConsentError::Corrupt(e.to_string()))?;

    let grant = write_transaction(conn, |conn| {
        let grant = lock_grant(conn, read)?;
        if let Some(why) = grant.refusal(now) {
            return Err(ConsentError::NotLive(why));
        }
        let leaf = queue(conn, &leaf)?;
        let consent = &grant.consent;
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
                disclosures::kind.eq(kind),
                disclosures::answer_sealed.eq(sealed.as_deref()),
            ))
            .execute(conn)?;
        diesel::update(consents::table.find(consent_id))
            .set((
                consents::uses.eq(consent.uses + 1),
                consents::last_used_at.eq(Some(now.naive_utc())),
                consents::quota_day.eq(Some(today.to_string())),
                consents::quota_used.eq(grant.used_on(today) + 1),
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
        if breadth_due(conn, &consent.citizen_id, company_id, now)? {
            pay_breadth(conn, &consent.citizen_id, company_id, paid_for, now)?;
        }
        if answered > 0 {
            let answered = i64::try_from(answered).unwrap_or(i64::MAX);
            pay_predicate_answers(
                conn,
                consent_id,
                &consent.citizen_id,
                company_id,
                answered,
                paid_for,
                now,
            )?;
        }
        Ok(grant)
    })?;

    let audit_leaf_hash = infobank_audit::merkle::to_hex(&leaf.hash());
    let terms = DisclosureTerms {
        disclosure_id,
        consent_id: consent_id.to_owned(),
        subject: grant.consent.subject,
        offer_id: grant.offer.id,
        purpose: grant.offer.purpose,
        disclosed_at: now,
        retain_until: now + Duration::days(i64::from(grant.offer.retention_days)),
        onward_transfer: "prohibited",
    };
    let Some(predicates) = answers else {
        return Ok(Disclosed::Records(Disclosure {
            terms,
            data,
            audit_leaf_hash,
        }));
    };
    let claims = Attestation {
        iss: infobank_crypto::token::ISSUER.to_owned(),
        sub: terms.subject.clone(),
        aud: company_id.to_owned(),
        jti: terms.disclosure_id.clone(),
        typ: "predicate-answers".to_owned(),
        consent_id: terms.consent_id.clone(),
        offer_id: terms.offer_id.clone(),
        predicates: predicates.clone(),
        audit_leaf_hash: audit_leaf_hash.clone(),
        iat: now.timestamp(),
        exp: (now + attesting.ttl).timestamp(),
    };
    // Signed after the commit: the answer is recorded and paid whatever happens here, and a
    // signing failure (which only a broken key causes) is reported, not hidden.
    let attestation = attesting
        .signer
        .sign(&claims)
        .map_err(|e| ConsentError::Signing(e.to_string()))?;
    Ok(Disclosed::Predicates(PredicateDisclosure {
        terms,
        predicates,
        attestation,
        audit_leaf_hash,
    }))
}

/// One disclosure as the citizen sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisclosureRecord {
    pub id: String,
    pub consent_id: String,
    pub company_id: String,
    pub company_name: String,
    /// `records` or `predicates`.
    pub kind: String,
    pub categories: Vec<String>,
    /// For records: how many were disclosed; for predicates: how many were asked.
    pub record_count: i32,
    /// For predicates: exactly what the company was told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answers: Option<Vec<Answer>>,
    /// The disclosure's audit leaf (hash, hex).
    pub audit_leaf_hash: String,
    pub disclosed_at: DateTime<Utc>,
}

/// At most this many disclosures per page.
pub const MAX_PAGE: i64 = 200;

/// Who received what of the citizen's data, when, under which consent, and for predicate
/// answers the answers themselves (opened with her data key). Newest first.
pub fn for_citizen(
    conn: &mut DbConnection,
    keys: &KeyRing,
    citizen_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<DisclosureRecord>, ConsentError> {
    type Row = (
        String,
        String,
        String,
        String,
        String,
        i32,
        Vec<u8>,
        NaiveDateTime,
        String,
        Option<Vec<u8>>,
    );
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
            disclosures::kind,
            disclosures::answer_sealed,
        ))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(disclosures::id.lt(before.to_owned()));
    }
    let rows: Vec<Row> = query.load(conn)?;
    let dek = if rows.iter().any(|r| r.9.is_some()) {
        Some(data_key(conn, keys, citizen_id).map_err(VaultError::from)?)
    } else {
        None
    };
    rows.into_iter()
        .map(|r| {
            let answers = match (&dek, &r.9) {
                (Some(dek), Some(sealed)) => {
                    let plain = dek
                        .open(&answer_aad(citizen_id, &r.0), sealed)
                        .map_err(|e| ConsentError::Corrupt(format!("disclosure {} answer: {e}", r.0)))?;
                    Some(serde_json::from_slice(&plain).map_err(|e| ConsentError::Corrupt(e.to_string()))?)
                }
                _ => None,
            };
            Ok(DisclosureRecord {
                categories: serde_json::from_str(&r.4).map_err(|e| ConsentError::Corrupt(e.to_string()))?,
                id: r.0,
                consent_id: r.1,
                company_id: r.2,
                company_name: r.3,
                kind: r.8,
                record_count: r.5,
                answers,
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
