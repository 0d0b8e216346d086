//! The journal. An entry moves coins between two or more accounts with postings that sum to
//! zero; it is written once per idempotency key, with its audit leaf, and it updates each
//! account's maintained balance, refusing any that would go below zero.
//!
//! Concurrency: [`post`] first locks the idempotency key (see [`infobank_db::locks`]), then
//! writes the entry, and only at the end changes the balances, each with one `UPDATE` that
//! takes the account's row lock, in id order with the issuance account last. So checking the
//! key, checking balances and writing happen with no other writer of the same key or accounts
//! in between, entries on other accounts go on in parallel (on SQLite the one write lock does
//! the same), and the issuance account, which every entrust touches, is held only from its
//! update to the commit. The update refuses to take an account below zero in its `WHERE`
//! clause, and a `CHECK` constraint says the same, so a bug in that reasoning would fail a
//! request, never overdraw an account.

use chrono::{DateTime, NaiveDateTime, SubsecRound as _, Utc};
use infobank_audit::merkle::Hash;
use infobank_audit::{Action, Actor, AuditEvent, append};
use infobank_db::DbConnection;
use infobank_db::diesel::prelude::*;
use infobank_db::schema::{coin_accounts, coin_entries, coin_postings};
use serde::Serialize;
use serde_json::Value;

use crate::{Account, CoinsError, MAX_AMOUNT};

/// Why coins moved. The string form is stored and published; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Content x amount: the citizen entrusted data (issued by the bank).
    EntrustReward,
    /// The citizen's data reached one more approved company this month (issued by the bank).
    BreadthBonus,
    /// An offer's promised reward, paid from the company's escrow on the first disclosure.
    OfferReward,
    /// An operator credited a company's funding account.
    Funding,
    /// An offer's reward moved from the company's funding account into its escrow at consent.
    Reservation,
    /// A reservation went back to the company: the consent ended without any disclosure.
    Release,
    /// The citizen spent coins.
    Redemption,
    /// A company received yes/no answers instead of records (issued by the bank).
    PredicateReward,
    /// The citizen was counted in a statistics run (issued by the bank).
    StatisticsReward,
}

impl Reason {
    pub const ALL: [Reason; 9] = [
        Reason::EntrustReward,
        Reason::BreadthBonus,
        Reason::OfferReward,
        Reason::Funding,
        Reason::Reservation,
        Reason::Release,
        Reason::Redemption,
        Reason::PredicateReward,
        Reason::StatisticsReward,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::EntrustReward => "entrust_reward",
            Self::BreadthBonus => "breadth_bonus",
            Self::OfferReward => "offer_reward",
            Self::Funding => "funding",
            Self::Reservation => "reservation",
            Self::Release => "release",
            Self::Redemption => "redemption",
            Self::PredicateReward => "predicate_reward",
            Self::StatisticsReward => "statistics_reward",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The audit action that records an entry of this reason.
    pub fn action(self) -> Action {
        match self {
            Self::EntrustReward
            | Self::BreadthBonus
            | Self::OfferReward
            | Self::PredicateReward
            | Self::StatisticsReward => Action::CoinsPaid,
            Self::Funding => Action::CoinsFunded,
            Self::Reservation => Action::CoinsReserved,
            Self::Release => Action::CoinsReleased,
            Self::Redemption => Action::CoinsRedeemed,
        }
    }
}

/// What a caller asks [`post`] to write.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    /// Paying twice under one key is impossible: the second call returns the first entry.
    pub idempotency_key: String,
    pub reason: Reason,
    /// What the entry is about: `("record", id)`, `("consent", id)`, `("redemption", id)`, …
    pub ref_kind: &'a str,
    pub ref_id: &'a str,
    /// The reward policy version a payout was computed under.
    pub policy_version: Option<i32>,
    /// Everything the amount was computed from, so that anyone can recompute it.
    pub inputs: Value,
    /// The audit leaf (its hash) of the event this entry pays for (an entrust, a disclosure).
    pub event_leaf: Option<Hash>,
    /// Who caused the entry, for its audit leaf.
    pub actor: Actor,
    /// The company concerned, if any (the regulator filters the log by it).
    pub company_id: Option<&'a str>,
    pub postings: Vec<(Account<'a>, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Posting {
    pub account_id: String,
    pub amount: i64,
    /// The account's balance once this posting was applied.
    pub balance_after: i64,
}

/// A journal entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub id: String,
    pub idempotency_key: String,
    pub reason: Reason,
    pub ref_kind: String,
    pub ref_id: String,
    pub policy_version: Option<i32>,
    pub inputs: Value,
    /// The leaf of the event paid for, and the entry's own leaf (hex in JSON).
    #[serde(serialize_with = "hex_leaf_opt")]
    pub event_leaf: Option<Hash>,
    #[serde(serialize_with = "hex_leaf")]
    pub audit_leaf: Hash,
    pub created_at: DateTime<Utc>,
    pub postings: Vec<Posting>,
}

impl Entry {
    /// The amount this entry moved into (positive) or out of (negative) `account`, 0 if none.
    pub fn amount_for(&self, account: Account<'_>) -> i64 {
        let id = account.id();
        self.postings
            .iter()
            .filter(|p| p.account_id == id)
            .map(|p| p.amount)
            .sum()
    }
}

/// The result of [`post`]: a new entry, or the one an earlier call with the same key wrote.
#[derive(Debug, Clone, PartialEq)]
pub enum Posted {
    New(Entry),
    Replayed(Entry),
}

impl Posted {
    pub fn entry(&self) -> &Entry {
        match self {
            Self::New(e) | Self::Replayed(e) => e,
        }
    }

    pub fn into_entry(self) -> Entry {
        match self {
            Self::New(e) | Self::Replayed(e) => e,
        }
    }

    pub fn is_replay(&self) -> bool {
        matches!(self, Self::Replayed(_))
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = coin_entries)]
struct EntryRow {
    id: String,
    idempotency_key: String,
    reason: String,
    ref_kind: String,
    ref_id: String,
    policy_version: Option<i32>,
    inputs: String,
    created_at: NaiveDateTime,
    audit_leaf_hash: Vec<u8>,
    event_leaf_hash: Option<Vec<u8>>,
}

fn hex_leaf<S: serde::Serializer>(hash: &Hash, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&infobank_audit::merkle::to_hex(hash))
}

fn hex_leaf_opt<S: serde::Serializer>(hash: &Option<Hash>, s: S) -> Result<S::Ok, S::Error> {
    match hash {
        Some(h) => hex_leaf(h, s),
        None => s.serialize_none(),
    }
}

fn to_hash(bytes: &[u8]) -> Result<Hash, CoinsError> {
    bytes
        .try_into()
        .map_err(|_| CoinsError::Corrupt(format!("stored leaf hash of {} bytes", bytes.len())))
}

fn entry_from_row(row: EntryRow, postings: Vec<Posting>) -> Result<Entry, CoinsError> {
    Ok(Entry {
        reason: Reason::parse(&row.reason).ok_or_else(|| CoinsError::Corrupt(format!("reason {}", row.reason)))?,
        inputs: serde_json::from_str(&row.inputs).map_err(|e| CoinsError::Corrupt(format!("inputs: {e}")))?,
        event_leaf: row.event_leaf_hash.as_deref().map(to_hash).transpose()?,
        audit_leaf: to_hash(&row.audit_leaf_hash)?,
        created_at: row.created_at.and_utc(),
        id: row.id,
        idempotency_key: row.idempotency_key,
        ref_kind: row.ref_kind,
        ref_id: row.ref_id,
        policy_version: row.policy_version,
        postings,
    })
}

fn postings_of(conn: &mut DbConnection, entry_id: &str) -> Result<Vec<Posting>, CoinsError> {
    let rows: Vec<(String, i64, i64)> = coin_postings::table
        .filter(coin_postings::entry_id.eq(entry_id))
        .order(coin_postings::account_id.asc())
        .select((
            coin_postings::account_id,
            coin_postings::amount,
            coin_postings::balance_after,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(account_id, amount, balance_after)| Posting {
            account_id,
            amount,
            balance_after,
        })
        .collect())
}

/// The entry written under `key`, if any.
pub fn find_by_key(conn: &mut DbConnection, key: &str) -> Result<Option<Entry>, CoinsError> {
    let row: Option<EntryRow> = coin_entries::table
        .filter(coin_entries::idempotency_key.eq(key))
        .select(EntryRow::as_select())
        .first(conn)
        .optional()?;
    row.map(|row| {
        let postings = postings_of(conn, &row.id)?;
        entry_from_row(row, postings)
    })
    .transpose()
}

/// Entries by id, with their postings, in the order given.
pub(crate) fn entries_by_id(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<Entry>, CoinsError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<EntryRow> = coin_entries::table
        .filter(coin_entries::id.eq_any(ids))
        .select(EntryRow::as_select())
        .load(conn)?;
    let all_postings: Vec<(String, String, i64, i64)> = coin_postings::table
        .filter(coin_postings::entry_id.eq_any(ids))
        .order((coin_postings::entry_id.asc(), coin_postings::account_id.asc()))
        .select((
            coin_postings::entry_id,
            coin_postings::account_id,
            coin_postings::amount,
            coin_postings::balance_after,
        ))
        .load(conn)?;
    let mut by_id = std::collections::HashMap::new();
    for row in rows {
        let postings = all_postings
            .iter()
            .filter(|p| p.0 == row.id)
            .map(|p| Posting {
                account_id: p.1.clone(),
                amount: p.2,
                balance_after: p.3,
            })
            .collect();
        by_id.insert(row.id.clone(), entry_from_row(row, postings)?);
    }
    ids.iter()
        .map(|id| {
            by_id
                .remove(id)
                .ok_or_else(|| CoinsError::Corrupt(format!("entry {id} vanished")))
        })
        .collect()
}

/// An account's maintained balance (one row; 0 for an account that never had a posting).
pub fn balance(conn: &mut DbConnection, account: Account<'_>) -> Result<i64, CoinsError> {
    Ok(coin_accounts::table
        .find(account.id())
        .select(coin_accounts::balance)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

fn check_shape(entry: &NewEntry<'_>) -> Result<(), CoinsError> {
    if entry.postings.len() < 2 {
        return Err(CoinsError::Unbalanced("an entry needs at least two postings".into()));
    }
    let mut ids: Vec<String> = entry.postings.iter().map(|(a, _)| a.id()).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() != entry.postings.len() {
        return Err(CoinsError::Unbalanced("an account appears twice".into()));
    }
    let mut sum: i64 = 0;
    for (account, amount) in &entry.postings {
        if *amount == 0 || amount.unsigned_abs() > MAX_AMOUNT.unsigned_abs() {
            return Err(CoinsError::InvalidAmount(format!("{amount} on {}", account.id())));
        }
        sum = sum
            .checked_add(*amount)
            .ok_or_else(|| CoinsError::InvalidAmount("overflow".into()))?;
    }
    if sum != 0 {
        return Err(CoinsError::Unbalanced(format!("postings sum to {sum}")));
    }
    if entry.idempotency_key.is_empty() {
        return Err(CoinsError::Invalid("empty idempotency key".into()));
    }
    Ok(())
}

/// Applies one posting to its account's maintained balance and returns the new balance. One
/// guarded `UPDATE` reads and changes the balance and takes the account's row lock (PostgreSQL),
/// so the lock is held from here to the commit, no longer. An account that does not exist yet
/// (a citizen's first coin) is created on the way.
fn apply(conn: &mut DbConnection, account: Account<'_>, amount: i64, now: NaiveDateTime) -> Result<i64, CoinsError> {
    use infobank_db::diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
    #[derive(QueryableByName)]
    struct Balance {
        #[diesel(sql_type = BigInt)]
        balance: i64,
    }
    let id = account.id();
    for attempt in 0..2 {
        // No change (and no row) when the account would go below zero, which only the issuance
        // account may; the table's CHECK constraint says the same.
        let updated: Option<Balance> = diesel::sql_query(
            "UPDATE coin_accounts SET balance = balance + $1 \
             WHERE id = $2 AND (kind = 'issuance' OR balance + $1 >= 0) RETURNING balance",
        )
        .bind::<BigInt, _>(amount)
        .bind::<Text, _>(&id)
        .get_result(conn)
        .optional()?;
        if let Some(updated) = updated {
            return Ok(updated.balance);
        }
        let current: Option<i64> = coin_accounts::table
            .find(&id)
            .select(coin_accounts::balance)
            .first(conn)
            .optional()?;
        if let Some(balance) = current {
            return Err(CoinsError::InsufficientBalance {
                account: account.kind().to_owned(),
                balance,
                needed: -amount,
            });
        }
        if attempt == 0 {
            // The same SQL on both backends; diesel's `on_conflict_do_nothing` is not available
            // through `MultiConnection`. A concurrent first coin may have created it meanwhile.
            diesel::sql_query(
                "INSERT INTO coin_accounts (id, kind, owner_id, balance, created_at) VALUES ($1, $2, $3, 0, $4) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind::<Text, _>(&id)
            .bind::<Text, _>(account.kind())
            .bind::<Nullable<Text>, _>(account.owner())
            .bind::<Timestamp, _>(now)
            .execute(conn)?;
        }
    }
    Err(CoinsError::Corrupt(format!("coin account {id} could not be created")))
}

/// Writes a journal entry inside the caller's transaction (it refuses to run outside one), or
/// returns the entry an earlier call wrote under the same idempotency key and writes nothing.
pub fn post(conn: &mut DbConnection, new: NewEntry<'_>, now: DateTime<Utc>) -> Result<Posted, CoinsError> {
    check_shape(&new)?;
    // Before any lock or row: outside a transaction they would not wait for the leaf.
    if !infobank_db::in_transaction(conn) {
        return Err(infobank_audit::AuditError::NotInTransaction.into());
    }
    let now = now.trunc_subsecs(6);
    // Locks in the documented order: the key, then the accounts as their balances change, at
    // the end (sorted by id, the issuance account, which every entrust touches, last: it is
    // held for the shortest time, from its update to the commit).
    infobank_db::lock_key(conn, &format!("coin_entry/{}", new.idempotency_key))?;
    if let Some(first) = find_by_key(conn, &new.idempotency_key)? {
        return Ok(Posted::Replayed(first));
    }
    let mut ordered = new.postings.clone();
    ordered.sort_by_key(|(account, _)| (account.may_go_negative(), account.id()));
    let id = uuid::Uuid::now_v7().to_string();

    let mut event = AuditEvent::new(new.reason.action(), new.actor.clone())
        .object("coin_entry", &id)
        .object("reason", new.reason.as_str())
        .object(new.ref_kind, new.ref_id);
    if let Some(company) = new.company_id {
        event = event.company(company);
    }
    let audit_leaf = append(conn, &event, now)?;

    let inputs = serde_json::to_string(&new.inputs).map_err(|e| CoinsError::Invalid(e.to_string()))?;
    diesel::insert_into(coin_entries::table)
        .values((
            coin_entries::id.eq(&id),
            coin_entries::idempotency_key.eq(&new.idempotency_key),
            coin_entries::reason.eq(new.reason.as_str()),
            coin_entries::ref_kind.eq(new.ref_kind),
            coin_entries::ref_id.eq(new.ref_id),
            coin_entries::policy_version.eq(new.policy_version),
            coin_entries::inputs.eq(&inputs),
            coin_entries::event_leaf_hash.eq(new.event_leaf.map(|h| h.to_vec())),
            coin_entries::audit_leaf_hash.eq(audit_leaf.as_slice()),
            coin_entries::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;

    let mut postings = Vec::with_capacity(new.postings.len());
    for (account, amount) in ordered {
        let balance_after = apply(conn, account, amount, now.naive_utc())?;
        diesel::insert_into(coin_postings::table)
            .values((
                coin_postings::entry_id.eq(&id),
                coin_postings::account_id.eq(account.id()),
                coin_postings::amount.eq(amount),
                coin_postings::balance_after.eq(balance_after),
            ))
            .execute(conn)?;
        postings.push(Posting {
            account_id: account.id(),
            amount,
            balance_after,
        });
    }
    Ok(Posted::New(Entry {
        id,
        idempotency_key: new.idempotency_key,
        reason: new.reason,
        ref_kind: new.ref_kind.to_owned(),
        ref_id: new.ref_id.to_owned(),
        policy_version: new.policy_version,
        inputs: new.inputs,
        event_leaf: new.event_leaf,
        audit_leaf,
        created_at: now,
        postings,
    }))
}

/// What [`check_books`] found: every account's maintained balance and the sum of its postings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Books {
    pub entries: usize,
    pub postings: usize,
    /// `(account id, maintained balance)`, sorted by id.
    pub balances: Vec<(String, i64)>,
}

/// Checks the ledger's invariants over all of it and reports the first violation as
/// [`CoinsError::Corrupt`]: every entry's postings sum to zero and number two or more, every
/// maintained balance equals the sum of its account's postings, no account but issuance is
/// below zero, and all balances together sum to zero. (It reads the whole ledger: an audit tool,
/// not a request path.)
pub fn check_books(conn: &mut DbConnection) -> Result<Books, CoinsError> {
    use std::collections::BTreeMap;
    let postings: Vec<(String, String, i64)> = coin_postings::table
        .select((
            coin_postings::entry_id,
            coin_postings::account_id,
            coin_postings::amount,
        ))
        .load(conn)?;
    let accounts: Vec<(String, String, i64)> = coin_accounts::table
        .select((coin_accounts::id, coin_accounts::kind, coin_accounts::balance))
        .order(coin_accounts::id.asc())
        .load(conn)?;
    let entries: i64 = coin_entries::table.count().get_result(conn)?;

    let mut per_entry: BTreeMap<&str, (i64, usize)> = BTreeMap::new();
    let mut per_account: BTreeMap<&str, i64> = BTreeMap::new();
    for (entry, account, amount) in &postings {
        let e = per_entry.entry(entry.as_str()).or_default();
        e.0 += amount;
        e.1 += 1;
        *per_account.entry(account.as_str()).or_default() += amount;
    }
    if per_entry.len() != usize::try_from(entries).unwrap_or(usize::MAX) {
        return Err(CoinsError::Corrupt(format!(
            "{entries} entries but {} have postings",
            per_entry.len()
        )));
    }
    for (entry, (sum, count)) in &per_entry {
        if *sum != 0 || *count < 2 {
            return Err(CoinsError::Corrupt(format!(
                "entry {entry}: {count} postings summing to {sum}"
            )));
        }
    }
    let mut total: i64 = 0;
    for (id, kind, balance) in &accounts {
        let posted = per_account.get(id.as_str()).copied().unwrap_or(0);
        if posted != *balance {
            return Err(CoinsError::Corrupt(format!(
                "account {id}: maintained balance {balance}, postings sum to {posted}"
            )));
        }
        if *balance < 0 && kind != "issuance" {
            return Err(CoinsError::Corrupt(format!("account {id} is at {balance}")));
        }
        total += balance;
    }
    if total != 0 {
        return Err(CoinsError::Corrupt(format!("balances sum to {total}")));
    }
    Ok(Books {
        entries: per_entry.len(),
        postings: postings.len(),
        balances: accounts.into_iter().map(|(id, _, b)| (id, b)).collect(),
    })
}
