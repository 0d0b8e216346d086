//! Reconciliation: the log against the tables it speaks for. `audit verify` proves that the log
//! was not rewritten; it cannot see a row deleted from (or added to) the tables beside it, such
//! as a disclosure hidden from the citizen it concerns. [`reconcile`] reads, in one snapshot of
//! the database, every leaf (integrated and queued) and the rows of the tables whose changes
//! append leaves, and checks both ways that each row has its leaf and each leaf its row:
//!
//! - **disclosures** and **coin entries** store their leaf's hash: each row's hash is a leaf of
//!   that kind naming that row, and each such leaf has its row;
//! - **consents** and **companies**: each row has the leaf that created it (`consent.granted`,
//!   `company.applied`) and each such leaf its row; the row's status is the one its last status
//!   leaf set;
//! - **accounts**: each row has its `account.created` leaf and no `account.deleted` one; each
//!   account the log created and did not delete has its row;
//! - **vault records**: each record the log created (`record.created`) and did not delete, for an
//!   account that was not deleted, has its row; a row without its own leaf must be one of an
//!   import, whose leaf carries only the category and how many rows it stored, so imported rows
//!   are counted per citizen and category (a deleted imported row is named by its citizen and
//!   category, not by its id).
//!
//! It trusts the text of the leaves; `audit verify` is what checks that text against the tree.
//! An insider who deletes a row *and* its leaf breaks the tree instead, which `audit verify`
//! against an earlier signed head catches (docs/audit.md).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use infobank_crypto::hashing::hex;
use infobank_db::diesel::prelude::*;
use infobank_db::schema::{
    accounts, audit_leaves, audit_queue, coin_entries, companies, consents, disclosures, statistics_runs, vault_records,
};
use infobank_db::{DbConnection, read_snapshot};
use serde::Serialize;
use serde_json::Value;

use crate::{Action, AuditError};

/// At most this many mismatches are named; all are counted.
pub const MAX_NAMED: usize = 100;

/// Leaves are read in pages of this many.
const PAGE: i64 = 10_000;

/// One row without its leaf, one leaf without its row, or a row whose state its leaves deny.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// The table the row is (or should be) in.
    pub table: &'static str,
    /// The row's id, or for imported records `citizen <id>, <category>`.
    pub id: String,
    pub problem: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    /// Leaves read: integrated and queued.
    pub leaves: u64,
    /// Rows read, per table.
    pub rows: BTreeMap<&'static str, u64>,
    /// Every mismatch found.
    pub mismatch_count: u64,
    /// The first [`MAX_NAMED`] of them, table by table.
    pub mismatches: Vec<Mismatch>,
}

impl Reconciliation {
    pub fn is_consistent(&self) -> bool {
        self.mismatch_count == 0
    }

    /// The rows read, for people: `12 accounts, 40 coin_entries, …`.
    pub fn rows_read(&self) -> String {
        self.rows
            .iter()
            .map(|(table, n)| format!("{n} {table}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What reconciliation needs of a leaf.
struct Fact {
    action: Action,
    hash: Vec<u8>,
    actor_id: String,
    objects: BTreeMap<String, String>,
}

impl Fact {
    fn object(&self, kind: &str) -> &str {
        self.objects.get(kind).map_or("", String::as_str)
    }
}

/// Reads every leaf and every row concerned in one snapshot, and compares them.
pub fn reconcile(conn: &mut DbConnection) -> Result<Reconciliation, AuditError> {
    read_snapshot(conn, |conn| {
        let facts = read_facts(conn)?;
        let deleted_accounts = deleted_accounts(&facts);
        let gone = consents_of_deleted(&facts, &deleted_accounts);
        let mut found = Found::default();
        let mut rows = BTreeMap::new();
        rows.insert(
            "disclosures",
            by_hash(conn, &facts, &gone, &mut found, Stored::Disclosures)?,
        );
        rows.insert(
            "coin_entries",
            by_hash(conn, &facts, &gone, &mut found, Stored::CoinEntries)?,
        );
        rows.insert(
            "statistics_runs",
            by_hash(conn, &facts, &gone, &mut found, Stored::StatisticsRuns)?,
        );
        rows.insert("consents", consents_match(conn, &facts, &gone, &mut found)?);
        rows.insert("companies", companies_match(conn, &facts, &mut found)?);
        rows.insert("accounts", accounts_match(conn, &facts, &deleted_accounts, &mut found)?);
        rows.insert(
            "vault_records",
            records_match(conn, &facts, &deleted_accounts, &mut found)?,
        );
        Ok(Reconciliation {
            leaves: facts.len() as u64,
            rows,
            mismatch_count: found.count,
            mismatches: found.named,
        })
    })
}

#[derive(Default)]
struct Found {
    count: u64,
    named: Vec<Mismatch>,
}

impl Found {
    fn add(&mut self, table: &'static str, id: impl Into<String>, problem: impl Into<String>) {
        self.count += 1;
        if self.named.len() < MAX_NAMED {
            self.named.push(Mismatch {
                table,
                id: id.into(),
                problem: problem.into(),
            });
        }
    }
}

/// The actions whose leaves speak for a row; other leaves (reads, exports, sign-ins, offers and
/// their declines, policies) are counted but not kept.
fn concerns_a_row(action: Action) -> bool {
    !matches!(
        action,
        Action::StaffSignedIn
            | Action::AuditRead
            | Action::DataExported
            | Action::RewardPolicyPublished
            | Action::CompanySecretRotated
            | Action::OfferProposed
            | Action::OfferReviewed
            | Action::OfferDeclined
            | Action::OfferDeclineUndone
            | Action::RecordUpdated
    )
}

/// Every leaf in log order: the integrated ones by index, then the queued ones by queue id.
fn read_facts(conn: &mut DbConnection) -> Result<Vec<Option<Fact>>, AuditError> {
    let mut facts = Vec::new();
    let mut next = 0i64;
    loop {
        let page: Vec<(i64, String, String, Vec<u8>)> = audit_leaves::table
            .filter(audit_leaves::idx.ge(next))
            .order(audit_leaves::idx.asc())
            .limit(PAGE)
            .select((
                audit_leaves::idx,
                audit_leaves::action,
                audit_leaves::leaf,
                audit_leaves::leaf_hash,
            ))
            .load(conn)?;
        let Some(last) = page.last().map(|row| row.0) else {
            break;
        };
        for (_, action, leaf, hash) in page {
            facts.push(fact(&action, &leaf, hash)?);
        }
        next = last + 1;
    }
    let queued: Vec<(String, String, Vec<u8>)> = audit_queue::table
        .order(audit_queue::id.asc())
        .select((audit_queue::action, audit_queue::leaf, audit_queue::leaf_hash))
        .load(conn)?;
    for (action, leaf, hash) in queued {
        facts.push(fact(&action, &leaf, hash)?);
    }
    Ok(facts)
}

fn fact(action: &str, leaf: &str, hash: Vec<u8>) -> Result<Option<Fact>, AuditError> {
    let action =
        Action::parse(action).ok_or_else(|| AuditError::Corrupt(format!("unknown action {action} in the log")))?;
    if !concerns_a_row(action) {
        return Ok(None);
    }
    let leaf: Value =
        serde_json::from_str(leaf).map_err(|e| AuditError::Corrupt(format!("a leaf that is not JSON: {e}")))?;
    let objects = leaf["objects"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(Fact {
        action,
        hash,
        actor_id: leaf["actor"]["id"].as_str().unwrap_or_default().to_owned(),
        objects,
    }))
}

fn kept(facts: &[Option<Fact>]) -> impl Iterator<Item = &Fact> {
    facts.iter().flatten()
}

/// The tables whose rows store their leaf's hash.
#[derive(Clone, Copy)]
enum Stored {
    Disclosures,
    CoinEntries,
    StatisticsRuns,
}

impl Stored {
    fn table(self) -> &'static str {
        match self {
            Self::Disclosures => "disclosures",
            Self::StatisticsRuns => "statistics_runs",
            Self::CoinEntries => "coin_entries",
        }
    }

    /// The object kind under which the leaf names the row.
    fn object(self) -> &'static str {
        match self {
            Self::Disclosures => "disclosure",
            Self::StatisticsRuns => "statistics_run",
            Self::CoinEntries => "coin_entry",
        }
    }

    fn is_its_leaf(self, action: Action) -> bool {
        match self {
            Self::Disclosures => action == Action::DataDisclosed,
            Self::StatisticsRuns => action == Action::StatisticsRun,
            Self::CoinEntries => matches!(
                action,
                Action::CoinsPaid
                    | Action::CoinsFunded
                    | Action::CoinsReserved
                    | Action::CoinsReleased
                    | Action::CoinsRedeemed
            ),
        }
    }

    fn rows(self, conn: &mut DbConnection) -> QueryResult<Vec<(String, Vec<u8>)>> {
        match self {
            Self::Disclosures => disclosures::table
                .select((disclosures::id, disclosures::audit_leaf_hash))
                .load(conn),
            Self::StatisticsRuns => statistics_runs::table
                .select((statistics_runs::id, statistics_runs::audit_leaf_hash))
                .load(conn),
            Self::CoinEntries => coin_entries::table
                .select((coin_entries::id, coin_entries::audit_leaf_hash))
                .load(conn),
        }
    }
}

/// Rows that store their leaf's hash, against the leaves of their kind. A disclosure under a
/// consent that went with its deleted account (`gone`) went with it.
fn by_hash(
    conn: &mut DbConnection,
    facts: &[Option<Fact>],
    gone: &HashSet<&str>,
    found: &mut Found,
    stored: Stored,
) -> Result<u64, AuditError> {
    let table = stored.table();
    let leaves: HashMap<&[u8], &Fact> = kept(facts)
        .filter(|f| stored.is_its_leaf(f.action))
        .map(|f| (f.hash.as_slice(), f))
        .collect();
    let rows = stored.rows(conn)?;
    let mut matched: HashSet<&[u8]> = HashSet::new();
    for (id, hash) in &rows {
        match leaves.get(hash.as_slice()) {
            None => found.add(
                table,
                id,
                format!(
                    "no {} leaf has the hash the row stores ({})",
                    stored.object(),
                    hex(hash)
                ),
            ),
            Some(leaf) if leaf.object(stored.object()) != id => found.add(
                table,
                id,
                format!(
                    "the leaf with the row's hash names {} {}",
                    stored.object(),
                    leaf.object(stored.object())
                ),
            ),
            Some(_) => {
                if !matched.insert(hash.as_slice()) {
                    found.add(table, id, "another row stores the same leaf hash");
                }
            }
        }
    }
    for (hash, leaf) in &leaves {
        let went_with_its_account = matches!(stored, Stored::Disclosures) && gone.contains(leaf.object("consent"));
        if !matched.contains(hash) && !went_with_its_account {
            found.add(
                table,
                leaf.object(stored.object()),
                format!("the log records it (leaf {}) but the row is missing", hex(hash)),
            );
        }
    }
    Ok(rows.len() as u64)
}

/// What the leaves say of one object with a lifecycle: whether they created it, and the status
/// their last change left it in.
#[derive(Default)]
struct Lifecycle {
    created: bool,
    status: String,
}

/// Rows with a lifecycle against the leaves that create and change them.
fn lifecycle_match(
    table: &'static str,
    created_by: &str,
    rows: &[(String, String)],
    leaves: &BTreeMap<String, Lifecycle>,
    found: &mut Found,
) {
    let held: HashSet<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    for (id, status) in rows {
        match leaves.get(id) {
            Some(life) if life.created => {
                if *status != life.status {
                    found.add(
                        table,
                        id,
                        format!("its status is {status}; its last leaf left it {}", life.status),
                    );
                }
            }
            _ => found.add(
                table,
                id,
                format!("no {created_by} leaf (a row added without its leaf)"),
            ),
        }
    }
    // (A row held without its creating leaf is named above already.)
    for (id, life) in leaves.iter().filter(|(id, _)| !held.contains(id.as_str())) {
        let problem = if life.created {
            format!("the log records its {created_by} but the row is missing")
        } else {
            format!("the log changes it but records no {created_by}, and no row is held")
        };
        found.add(table, id, problem);
    }
}

/// Per object of `kind`, what its leaves say: created by a `creates` leaf, and the status the
/// last leaf `status_of` reads one from left it in.
fn lifecycles<'a>(
    facts: &'a [Option<Fact>],
    kind: &str,
    creates: Action,
    status_of: impl Fn(&'a Fact) -> Option<&'a str>,
) -> BTreeMap<String, Lifecycle> {
    let mut leaves: BTreeMap<String, Lifecycle> = BTreeMap::new();
    for f in kept(facts) {
        let Some(status) = status_of(f) else { continue };
        let life = leaves.entry(f.object(kind).to_owned()).or_default();
        life.created |= f.action == creates;
        status.clone_into(&mut life.status);
    }
    leaves
}

/// The consents a deleted account took with it (their rows go, their leaves stay): those its
/// citizen granted (the `consent.granted` leaf names her as its actor).
fn consents_of_deleted<'a>(facts: &'a [Option<Fact>], deleted: &HashSet<&str>) -> HashSet<&'a str> {
    kept(facts)
        .filter(|f| f.action == Action::ConsentGranted && deleted.contains(f.actor_id.as_str()))
        .map(|f| f.object("consent"))
        .collect()
}

fn consents_match(
    conn: &mut DbConnection,
    facts: &[Option<Fact>],
    gone: &HashSet<&str>,
    found: &mut Found,
) -> Result<u64, AuditError> {
    let mut leaves = lifecycles(facts, "consent", Action::ConsentGranted, |f| match f.action {
        Action::ConsentGranted | Action::ConsentResumed => Some("active"),
        Action::ConsentPaused => Some("paused"),
        Action::ConsentRevoked => Some("revoked"),
        Action::ConsentExpired => Some("expired"),
        _ => None,
    });
    let rows: Vec<(String, String)> = consents::table.select((consents::id, consents::status)).load(conn)?;
    let held: HashSet<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    leaves.retain(|id, _| held.contains(id.as_str()) || !gone.contains(id.as_str()));
    lifecycle_match("consents", "consent.granted", &rows, &leaves, found);
    Ok(rows.len() as u64)
}

fn companies_match(conn: &mut DbConnection, facts: &[Option<Fact>], found: &mut Found) -> Result<u64, AuditError> {
    let leaves = lifecycles(facts, "company", Action::CompanyApplied, |f| match f.action {
        Action::CompanyApplied => Some("applied"),
        Action::CompanyStatusChanged => Some(f.object("to")),
        _ => None,
    });
    let rows: Vec<(String, String)> = companies::table.select((companies::id, companies::status)).load(conn)?;
    lifecycle_match("companies", "company.applied", &rows, &leaves, found);
    Ok(rows.len() as u64)
}

/// The accounts the log deleted.
fn deleted_accounts(facts: &[Option<Fact>]) -> HashSet<&str> {
    kept(facts)
        .filter(|f| f.action == Action::AccountDeleted)
        .map(|f| f.object("account"))
        .collect()
}

fn accounts_match(
    conn: &mut DbConnection,
    facts: &[Option<Fact>],
    deleted: &HashSet<&str>,
    found: &mut Found,
) -> Result<u64, AuditError> {
    let created: HashSet<&str> = kept(facts)
        .filter(|f| f.action == Action::AccountCreated)
        .map(|f| f.object("account"))
        .collect();
    let rows: Vec<String> = accounts::table.select(accounts::id).load(conn)?;
    let held: HashSet<&str> = rows.iter().map(String::as_str).collect();
    for id in &rows {
        if !created.contains(id.as_str()) {
            found.add("accounts", id, "no account.created leaf (a row added without its leaf)");
        } else if deleted.contains(id.as_str()) {
            found.add("accounts", id, "the log records its deletion but the row is still held");
        }
    }
    let mut gone: Vec<&str> = created
        .difference(deleted)
        .filter(|id| !held.contains(*id))
        .copied()
        .collect();
    gone.sort_unstable();
    for id in gone {
        found.add(
            "accounts",
            id,
            "the log records its creation, not its deletion, but the row is missing",
        );
    }
    Ok(rows.len() as u64)
}

fn records_match(
    conn: &mut DbConnection,
    facts: &[Option<Fact>],
    deleted_accounts: &HashSet<&str>,
    found: &mut Found,
) -> Result<u64, AuditError> {
    // record id -> (citizen, category), for records created one by one.
    let mut created: HashMap<&str, (&str, &str)> = HashMap::new();
    let mut deleted: HashSet<&str> = HashSet::new();
    // (citizen, category) -> rows imports stored, less deletions of rows not created one by one.
    let mut imported: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for f in kept(facts) {
        match f.action {
            Action::RecordCreated => {
                created.insert(f.object("record"), (f.actor_id.as_str(), f.object("category")));
            }
            Action::RecordDeleted => {
                deleted.insert(f.object("record"));
            }
            Action::RecordsImported => {
                *imported.entry((f.actor_id.as_str(), f.object("category"))).or_default() +=
                    f.object("count").parse::<i64>().unwrap_or(0);
            }
            _ => {}
        }
    }
    for f in kept(facts) {
        if f.action == Action::RecordDeleted && !created.contains_key(f.object("record")) {
            *imported.entry((f.actor_id.as_str(), f.object("category"))).or_default() -= 1;
        }
    }
    let rows: Vec<(String, String, String)> = vault_records::table
        .select((vault_records::id, vault_records::citizen_id, vault_records::category))
        .load(conn)?;
    let held: HashSet<&str> = rows.iter().map(|(id, _, _)| id.as_str()).collect();
    // (citizen, category) -> the rows held that no leaf of their own names.
    let mut unnamed: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for (id, citizen, category) in &rows {
        if deleted_accounts.contains(citizen.as_str()) {
            found.add("vault_records", id, "held for an account the log records as deleted");
        } else if deleted.contains(id.as_str()) {
            found.add(
                "vault_records",
                id,
                "the log records its deletion but the row is still held",
            );
        } else if !created.contains_key(id.as_str()) {
            unnamed
                .entry((citizen.as_str(), category.as_str()))
                .or_default()
                .push(id);
        }
    }
    let mut gone: Vec<&str> = created
        .iter()
        .filter(|(id, (citizen, _))| {
            !deleted.contains(*id) && !deleted_accounts.contains(citizen) && !held.contains(*id)
        })
        .map(|(id, _)| *id)
        .collect();
    gone.sort_unstable();
    for id in gone {
        found.add(
            "vault_records",
            id,
            "the log records its creation, not its deletion, but the row is missing",
        );
    }
    let keys: BTreeSet<(&str, &str)> = imported.keys().chain(unnamed.keys()).copied().collect();
    for key @ (citizen, category) in keys {
        if deleted_accounts.contains(citizen) {
            continue;
        }
        let expected = imported.get(&key).copied().unwrap_or(0);
        let ids = unnamed.get(&key).map_or(&[][..], Vec::as_slice);
        let held = ids.len() as i64;
        if expected <= 0 {
            for id in ids {
                found.add(
                    "vault_records",
                    *id,
                    "no record.created leaf and no import (a row added without its leaf)",
                );
            }
        } else if held != expected {
            found.add(
                "vault_records",
                format!("citizen {citizen}, {category}"),
                format!(
                    "the log's imports account for {expected} rows without a leaf of their own; {held} are held{}",
                    if held < expected {
                        " (a row deleted without its leaf)"
                    } else {
                        " (a row added without its leaf)"
                    }
                ),
            );
        }
    }
    Ok(rows.len() as u64)
}
