//! One run of a statistics offer: computed inside the bank over the citizens whose consent is
//! live now, released under the rules of [`super::aggregate`], recorded with one audit leaf that
//! names the offer, the participant count and the Merkle root of the participants' pseudonyms,
//! and paid (the offer's reward at a citizen's first run, the policy's participation coins).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDateTime, SubsecRound as _, Utc};
use infobank_accounts::unwrap_data_key;
use infobank_audit::log::queue;
use infobank_audit::merkle::{Hash, MemoryTree, leaf_hash, root_of, to_hex};
use infobank_audit::{Action, Actor, AuditEvent, PreparedLeaf};
use infobank_coins::rewards::{
    PaidFor, pay_offer_reward, pay_statistics_participation, statistics_participation_unpaid,
};
use infobank_crypto::{DataKey, KeyRing};
use infobank_db::diesel::prelude::*;
use infobank_db::schema::{accounts, companies, consents, offers, statistics_participants, statistics_runs};
use infobank_db::{DbConnection, LockMode, Lockable, lock_key, lock_rows, write_transaction};
use infobank_vault::VaultError;
use infobank_vault::records::in_categories_of_many;
use serde::Serialize;

use super::aggregate::{Cell, EarlierRun, TooClose, cells, suppress, too_close};
use crate::companies::{CompanyStatus, get as get_company};
use crate::disclosure::{held, within};
use crate::offers::{Ask, Offer, get as get_offer};
use crate::predicates::Held;
use crate::{ConsentError, NotLive};

/// What the company receives.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunAnswer {
    pub run_id: String,
    pub offer_id: String,
    pub ran_at: DateTime<Utc>,
    /// Only cells of at least `k` people are released.
    pub k: i64,
    /// The citizens counted (consent live at the run).
    pub participants: i64,
    pub cells: Vec<Cell>,
    pub suppressed_cells: i64,
    /// RFC 6962 Merkle root (hex) over the participants' pseudonyms, sorted.
    pub participants_root: String,
    /// The run's audit leaf (hash, hex).
    pub audit_leaf_hash: String,
}

/// Rows per statement when a run writes many (well under SQLite's and PostgreSQL's limits on
/// bound parameters).
const CHUNK: usize = 1_000;

/// One citizen counted in a run, as read before the write.
struct Participant {
    consent_id: String,
    citizen_id: String,
    subject: String,
    uses: i64,
}

/// The leaves of the participants' tree: each pseudonym's RFC 6962 leaf hash, in order.
pub fn participant_leaves<'a>(subjects: impl IntoIterator<Item = &'a str>) -> Vec<Hash> {
    subjects.into_iter().map(|s| leaf_hash(s.as_bytes())).collect()
}

/// Runs the statistics of `offer_id` for its company, in up to three attempts when a consent
/// changes between the read and the write; refused when the offer is not the company's
/// (404), not a statistics offer, not live, over its runs for the day, or when its participants
/// are within `k` people of an earlier run of the same company.
pub fn run(
    conn: &mut DbConnection,
    keys: &KeyRing,
    company_id: &str,
    offer_id: &str,
    k: i64,
    now: DateTime<Utc>,
) -> Result<RunAnswer, ConsentError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        match run_once(conn, keys, company_id, offer_id, k, now) {
            Err(ConsentError::ParticipantsChanged) if attempts < 3 => continue,
            other => return other,
        }
    }
}

fn live_offer(conn: &mut DbConnection, company_id: &str, offer_id: &str) -> Result<Offer, ConsentError> {
    let offer = get_offer(conn, offer_id)?;
    if offer.company_id != company_id {
        return Err(ConsentError::NotFound);
    }
    if !matches!(offer.ask, Ask::Statistics { .. }) {
        return Err(ConsentError::NotStatistics);
    }
    refuse_unless_live(&offer.status, get_company(conn, company_id)?.status)?;
    Ok(offer)
}

fn refuse_unless_live(offer_status: &str, company: CompanyStatus) -> Result<(), ConsentError> {
    match company {
        CompanyStatus::Approved => {}
        CompanyStatus::Suspended => return Err(ConsentError::NotLive(NotLive::CompanySuspended)),
        _ => return Err(ConsentError::NotLive(NotLive::CompanyNotApproved)),
    }
    if offer_status != "approved" {
        return Err(ConsentError::NotLive(NotLive::OfferWithdrawn));
    }
    Ok(())
}

/// Inside the write transaction: the offer's and the company's status as committed now, and on
/// PostgreSQL held (`FOR SHARE`) against a withdrawal or a suspension committing before the run
/// does (as a disclosure holds them).
fn lock_live(conn: &mut DbConnection, offer_id: &str) -> Result<(), ConsentError> {
    macro_rules! statuses {
        () => {
            offers::table
                .inner_join(companies::table.on(companies::id.eq(offers::company_id)))
                .filter(offers::id.eq(offer_id))
                .select((offers::status, companies::status))
        };
    }
    let found: Option<(String, String)> = match conn {
        DbConnection::Postgres(pg) => statuses!().for_share().first(pg).optional()?,
        DbConnection::Sqlite(sqlite) => statuses!().first(sqlite).optional()?,
    };
    let (offer_status, company_status) = found.ok_or(ConsentError::NotFound)?;
    let company = CompanyStatus::parse(&company_status)
        .ok_or_else(|| ConsentError::Corrupt(format!("company status {company_status}")))?;
    refuse_unless_live(&offer_status, company)
}

fn run_once(
    conn: &mut DbConnection,
    keys: &KeyRing,
    company_id: &str,
    offer_id: &str,
    k: i64,
    now: DateTime<Utc>,
) -> Result<RunAnswer, ConsentError> {
    let now = now.trunc_subsecs(6);
    let today = now.date_naive();
    let offer = live_offer(conn, company_id, offer_id)?;
    let Ask::Statistics { statistics: spec } = &offer.ask else {
        return Err(ConsentError::NotStatistics);
    };

    // The reads: every live consent with the citizen's wrapped key, then her records.
    type Row = (String, String, String, i64, Vec<u8>, i32);
    let rows: Vec<Row> = consents::table
        .inner_join(accounts::table.on(accounts::id.eq(consents::citizen_id)))
        .filter(consents::offer_id.eq(offer_id))
        .filter(consents::status.eq("active"))
        .filter(consents::expires_at.gt(now.naive_utc()))
        .order(consents::subject.asc())
        .select((
            consents::id,
            consents::citizen_id,
            consents::subject,
            consents::uses,
            accounts::dek_wrapped,
            accounts::kek_version,
        ))
        .load(conn)?;
    let mut participants = Vec::with_capacity(rows.len());
    let mut deks = Vec::with_capacity(rows.len());
    for (consent_id, citizen_id, subject, uses, wrapped, kek_version) in rows {
        deks.push(unwrap_data_key(keys, &citizen_id, kek_version, &wrapped).map_err(VaultError::from)?);
        participants.push(Participant {
            consent_id,
            citizen_id,
            subject,
            uses,
        });
    }
    let citizens: Vec<(&str, &DataKey)> = participants.iter().map(|p| p.citizen_id.as_str()).zip(&deks).collect();
    let records: Vec<Held> = in_categories_of_many(conn, &citizens, &offer.categories)?
        .into_iter()
        .map(|held_records| held(&within(held_records, &offer, today)))
        .collect();
    drop(deks);
    let count = i64::try_from(participants.len()).unwrap_or(i64::MAX);
    let released = suppress(cells(spec, &records, today), count, k, spec.partitions_citizens());
    drop(records);

    let root = root_of(&participant_leaves(participants.iter().map(|p| p.subject.as_str())));
    let run_id = uuid::Uuid::now_v7().to_string();
    let suppressed = i64::try_from(released.suppressed).unwrap_or(i64::MAX);
    let event = AuditEvent::new(Action::StatisticsRun, Actor::new("company", company_id))
        .company(company_id)
        .object("offer", offer_id)
        .object("statistics_run", &run_id)
        .object("participants", &count.to_string())
        .object("participants_root", &to_hex(&root))
        .object("released_cells", &released.cells.len().to_string())
        .object("suppressed_cells", &suppressed.to_string())
        .object("k", &k.to_string());
    let leaf = PreparedLeaf::new(&event, now)?;
    let now_set: BTreeSet<String> = participants.iter().map(|p| p.subject.clone()).collect();
    let dimensions = spec.dimensions.join(",");
    // Who is paid: the offer's reward at a citizen's first run, the participation once a month.
    // Most runs after the first of a month pay nobody, and then lock no coin account at all.
    let citizen_ids: Vec<&str> = participants.iter().map(|p| p.citizen_id.as_str()).collect();
    let unpaid: BTreeSet<&str> = statistics_participation_unpaid(conn, &citizen_ids, offer_id, now)?
        .into_iter()
        .collect();
    let first_use = participants.iter().any(|p| p.uses == 0);
    let paid: Vec<&Participant> = participants
        .iter()
        .filter(|p| p.uses == 0 || unpaid.contains(p.citizen_id.as_str()))
        .collect();
    // Every coin account the payouts move, in the ledger's lock order (crates/db/src/locks.rs).
    let mut coin_accounts: Vec<String> = paid
        .iter()
        .map(|p| infobank_coins::Account::Citizen(&p.citizen_id).id())
        .collect();
    if first_use {
        coin_accounts.push(infobank_coins::Account::Escrow(company_id).id());
    }

    let leaf = write_transaction(conn, |conn| {
        lock_live(conn, offer_id)?;
        // A company's runs go one at a time (PostgreSQL; SQLite has one writer anyway), so that
        // the day's quota and the overlap rule see every earlier run of any of its offers.
        lock_key(conn, &format!("statistics/{company_id}"))?;
        if runs_exhausted(conn, &offer, now)? {
            return Err(ConsentError::NotLive(NotLive::QuotaExceeded));
        }
        match too_close(&now_set, &dimensions, &earlier_runs(conn, company_id)?, k) {
            Some(TooClose::Changed(changed)) => return Err(ConsentError::StatisticsTooClose { changed, k }),
            Some(TooClose::OtherDimensions) => return Err(ConsentError::StatisticsOtherDimensions),
            None => {}
        }
        // Still live as read, all of them: a consent revoked or paused in between leaves this
        // run (the run is tried again without it).
        let consent_ids: Vec<&str> = participants.iter().map(|p| p.consent_id.as_str()).collect();
        let mut updated = 0;
        for chunk in consent_ids.chunks(CHUNK) {
            updated += diesel::update(
                consents::table
                    .filter(consents::id.eq_any(chunk))
                    .filter(consents::status.eq("active"))
                    .filter(consents::expires_at.gt(now.naive_utc())),
            )
            .set((
                consents::uses.eq(consents::uses + 1),
                consents::last_used_at.eq(Some(now.naive_utc())),
            ))
            .execute(conn)?;
        }
        if updated != participants.len() {
            return Err(ConsentError::ParticipantsChanged);
        }
        // One payout after another would take each citizen's coin account while holding the
        // issuance account from the first payout on, against entrusts that take them the other
        // way round: take them all first, sorted (the payouts then find them held).
        lock_rows(
            conn,
            Lockable::CoinAccounts,
            &coin_accounts.iter().map(String::as_str).collect::<Vec<_>>(),
            LockMode::Update,
        )?;
        let leaf = queue(conn, &leaf)?;
        diesel::insert_into(statistics_runs::table)
            .values((
                statistics_runs::id.eq(&run_id),
                statistics_runs::offer_id.eq(offer_id),
                statistics_runs::company_id.eq(company_id),
                statistics_runs::ran_at.eq(now.naive_utc()),
                statistics_runs::dimensions.eq(&dimensions),
                statistics_runs::participants.eq(i32::try_from(count).unwrap_or(i32::MAX)),
                statistics_runs::released_cells.eq(i32::try_from(released.cells.len()).unwrap_or(i32::MAX)),
                statistics_runs::suppressed_cells.eq(i32::try_from(suppressed).unwrap_or(i32::MAX)),
                statistics_runs::k.eq(i32::try_from(k).unwrap_or(i32::MAX)),
                statistics_runs::participants_root.eq(root.as_slice()),
                statistics_runs::audit_leaf_hash.eq(leaf.as_slice()),
            ))
            .execute(conn)?;
        let rows: Vec<_> = participants
            .iter()
            .enumerate()
            .map(|(position, p)| {
                (
                    statistics_participants::run_id.eq(&run_id),
                    statistics_participants::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
                    statistics_participants::consent_id.eq(Some(&p.consent_id)),
                    statistics_participants::citizen_id.eq(Some(&p.citizen_id)),
                    statistics_participants::subject.eq(&p.subject),
                )
            })
            .collect();
        match conn {
            // One statement per thousand rows: round trips are what a run costs on PostgreSQL.
            DbConnection::Postgres(pg) => {
                for chunk in rows.chunks(CHUNK) {
                    diesel::insert_into(statistics_participants::table)
                        .values(chunk)
                        .execute(pg)?;
                }
            }
            // In-process: a row at a time costs no round trip.
            DbConnection::Sqlite(sqlite) => {
                for row in rows {
                    diesel::insert_into(statistics_participants::table)
                        .values(row)
                        .execute(sqlite)?;
                }
            }
        }
        let paid_for = PaidFor {
            event_leaf: leaf,
            ref_kind: "statistics_run",
            ref_id: &run_id,
        };
        for p in paid {
            if p.uses == 0 {
                pay_offer_reward(conn, &p.consent_id, &p.citizen_id, paid_for, now)?;
            }
            if unpaid.contains(p.citizen_id.as_str()) {
                pay_statistics_participation(conn, &p.citizen_id, company_id, offer_id, paid_for, now)?;
            }
        }
        Ok(leaf)
    })?;

    Ok(RunAnswer {
        run_id,
        offer_id: offer_id.to_owned(),
        ran_at: now,
        k,
        participants: count,
        cells: released.cells,
        suppressed_cells: suppressed,
        participants_root: to_hex(&root),
        audit_leaf_hash: to_hex(&leaf),
    })
}

/// Whether the offer has had its runs: one in all for `one_time`, else `max_fetches_per_day`
/// per UTC day.
fn runs_exhausted(conn: &mut DbConnection, offer: &Offer, now: DateTime<Utc>) -> Result<bool, ConsentError> {
    let mut query = statistics_runs::table
        .filter(statistics_runs::offer_id.eq(&offer.id))
        .into_boxed();
    if offer.access != "one_time" {
        let midnight = now.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default();
        query = query.filter(statistics_runs::ran_at.ge(midnight));
    }
    let runs: i64 = query.count().get_result(conn)?;
    let allowed = if offer.access == "one_time" {
        1
    } else {
        i64::from(offer.max_fetches_per_day)
    };
    Ok(runs >= allowed)
}

/// The participants (pseudonyms, which are per company) of every earlier run of the company: any
/// of its statistics offers, since two offers of one company must not difference each other
/// either. A deleted account's pseudonym stays in the runs it was counted in.
fn earlier_runs(conn: &mut DbConnection, company_id: &str) -> Result<Vec<EarlierRun>, ConsentError> {
    let runs: Vec<(String, String)> = statistics_runs::table
        .filter(statistics_runs::company_id.eq(company_id))
        .select((statistics_runs::id, statistics_runs::dimensions))
        .load(conn)?;
    // A run that counted nobody keeps the empty set.
    let mut by_id: BTreeMap<String, EarlierRun> = runs
        .into_iter()
        .map(|(id, dimensions)| {
            let run = EarlierRun {
                dimensions,
                participants: BTreeSet::new(),
            };
            (id, run)
        })
        .collect();
    let rows: Vec<(String, String)> = statistics_participants::table
        .inner_join(statistics_runs::table)
        .filter(statistics_runs::company_id.eq(company_id))
        .select((statistics_participants::run_id, statistics_participants::subject))
        .load(conn)?;
    for (run, subject) in rows {
        if let Some(r) = by_id.get_mut(&run) {
            r.participants.insert(subject);
        }
    }
    Ok(by_id.into_values().collect())
}

/// A run as listed for the regulator, the company and the citizens counted in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub offer_id: String,
    pub offer_title: String,
    pub company_id: String,
    pub company_name: String,
    pub ran_at: DateTime<Utc>,
    pub participants: i32,
    pub released_cells: i32,
    pub suppressed_cells: i32,
    pub k: i32,
    pub participants_root: String,
    pub audit_leaf_hash: String,
}

type SummaryRow = (
    String,
    String,
    String,
    String,
    String,
    NaiveDateTime,
    (i32, i32, i32, i32),
    Vec<u8>,
    Vec<u8>,
);

fn summary(r: SummaryRow) -> RunSummary {
    let (released, suppressed, participants, k) = r.6;
    RunSummary {
        run_id: r.0,
        offer_id: r.1,
        offer_title: r.2,
        company_id: r.3,
        company_name: r.4,
        ran_at: r.5.and_utc(),
        participants,
        released_cells: released,
        suppressed_cells: suppressed,
        k,
        participants_root: infobank_crypto::hashing::hex(&r.7),
        audit_leaf_hash: infobank_crypto::hashing::hex(&r.8),
    }
}

/// At most this many runs per page.
pub const MAX_PAGE: i64 = 200;

/// Runs with their offer's title and company's name, as [`SummaryRow`]s (a macro: the query's
/// type is diesel's, long, and each caller boxes or filters it).
macro_rules! summaries {
    () => {
        statistics_runs::table
            .inner_join(offers::table.on(offers::id.eq(statistics_runs::offer_id)))
            .inner_join(companies::table.on(companies::id.eq(statistics_runs::company_id)))
            .select((
                statistics_runs::id,
                statistics_runs::offer_id,
                offers::title,
                statistics_runs::company_id,
                companies::legal_name,
                statistics_runs::ran_at,
                (
                    statistics_runs::released_cells,
                    statistics_runs::suppressed_cells,
                    statistics_runs::participants,
                    statistics_runs::k,
                ),
                statistics_runs::participants_root,
                statistics_runs::audit_leaf_hash,
            ))
    };
}

/// Runs, newest first: all of them (the regulator), or one company's.
pub fn list(conn: &mut DbConnection, company_id: Option<&str>, limit: i64) -> Result<Vec<RunSummary>, ConsentError> {
    let mut query = summaries!()
        .order(statistics_runs::id.desc())
        .limit(limit.clamp(1, MAX_PAGE))
        .into_boxed();
    if let Some(company) = company_id {
        query = query.filter(statistics_runs::company_id.eq(company.to_owned()));
    }
    Ok(query.load::<SummaryRow>(conn)?.into_iter().map(summary).collect())
}

/// A run the citizen was counted in, with what she needs to check it: her pseudonym, its place
/// among the participants' leaves and the inclusion proof to the run's root (in the audit leaf).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountedIn {
    #[serde(flatten)]
    pub run: RunSummary,
    pub subject: String,
    pub leaf_index: i64,
    /// RFC 6962 inclusion proof of `subject`'s leaf in `participants_root` (hex hashes).
    pub inclusion_proof: Vec<String>,
}

/// The runs that counted the citizen, newest first: the latest `limit`, or all of them (her
/// export).
pub fn counted_in(
    conn: &mut DbConnection,
    citizen_id: &str,
    limit: Option<i64>,
) -> Result<Vec<CountedIn>, ConsentError> {
    let mut query = statistics_participants::table
        .filter(statistics_participants::citizen_id.eq(citizen_id))
        .order(statistics_participants::run_id.desc())
        .select((
            statistics_participants::run_id,
            statistics_participants::position,
            statistics_participants::subject,
        ))
        .into_boxed();
    if let Some(limit) = limit {
        query = query.limit(limit.clamp(1, MAX_PAGE));
    }
    let mine: Vec<(String, i32, String)> = query.load(conn)?;
    let mut out = Vec::with_capacity(mine.len());
    for (run_id, position, subject) in mine {
        let row: SummaryRow = summaries!().filter(statistics_runs::id.eq(&run_id)).first(conn)?;
        let subjects: Vec<String> = statistics_participants::table
            .filter(statistics_participants::run_id.eq(&run_id))
            .order(statistics_participants::position.asc())
            .select(statistics_participants::subject)
            .load(conn)?;
        let leaves = participant_leaves(subjects.iter().map(String::as_str));
        let size = leaves.len() as u64;
        let index = u64::try_from(position).unwrap_or(0);
        let proof = MemoryTree::from_leaves(&leaves)
            .inclusion_proof(index, size)
            .ok_or_else(|| ConsentError::Corrupt(format!("run {run_id}: no leaf {index} among {size}")))?;
        out.push(CountedIn {
            run: summary(row),
            subject,
            leaf_index: i64::from(position),
            inclusion_proof: proof.iter().map(to_hex).collect(),
        });
    }
    Ok(out)
}
