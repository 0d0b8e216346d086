//! Entrusted records: validated, sealed under the citizen's data key, and written together with
//! their audit leaf. Reads open only the citizen's own records; another citizen's record id is
//! indistinguishable from one that does not exist.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, SubsecRound as _, Utc};
use infobank_accounts::data_key;
use infobank_audit::{Action, Actor, AuditEvent, append};
use infobank_coins::rewards::{PaidFor, pay_entrust};
use infobank_crypto::{DataKey, KeyRing};
use infobank_db::diesel::prelude::*;
use infobank_db::diesel::result::{DatabaseErrorKind, Error as DieselError};
use infobank_db::schema::vault_records;
use infobank_db::{DbConnection, write_transaction};
use serde::Serialize;
use serde_json::Value;

use crate::VaultError;
use crate::categories::{Cardinality, Category, category};
use crate::validate::validate;

/// A record as its owner sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    pub id: String,
    pub category: String,
    pub data: Value,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Associated data: a sealed record opens only as this citizen's, this record's, this category's
/// and this version's data, so a ciphertext copied onto another row fails to open.
pub fn record_aad(citizen_id: &str, record_id: &str, category: &str, version: i32) -> Vec<u8> {
    format!("infobank-record|{citizen_id}|{record_id}|{category}|v{version}").into_bytes()
}

fn known_category(name: &str) -> Result<&'static Category, VaultError> {
    category(name).ok_or_else(|| VaultError::UnknownCategory(name.to_owned()))
}

fn event(action: Action, citizen_id: &str, record_id: &str, category: &str) -> AuditEvent {
    AuditEvent::new(action, Actor::new("citizen", citizen_id))
        .object("record", record_id)
        .object("category", category)
}

pub(crate) fn seal_record(
    dek: &DataKey,
    citizen_id: &str,
    record_id: &str,
    category: &str,
    version: i32,
    data: &Value,
) -> Result<Vec<u8>, VaultError> {
    let plain = serde_json::to_vec(data).map_err(|e| VaultError::Crypto(e.to_string()))?;
    Ok(dek.seal(&record_aad(citizen_id, record_id, category, version), &plain)?)
}

fn open(dek: &DataKey, citizen_id: &str, row: &RecordRow) -> Result<Record, VaultError> {
    let plain = dek.open(
        &record_aad(citizen_id, &row.id, &row.category, row.version),
        &row.sealed,
    )?;
    let data = serde_json::from_slice(&plain).map_err(|e| VaultError::Crypto(e.to_string()))?;
    Ok(Record {
        id: row.id.clone(),
        category: row.category.clone(),
        data,
        version: row.version,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = vault_records)]
pub(crate) struct RecordRow {
    pub id: String,
    pub category: String,
    pub version: i32,
    pub sealed: Vec<u8>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Entrusts a new record; returns it as stored.
pub fn create(
    conn: &mut DbConnection,
    keys: &KeyRing,
    citizen_id: &str,
    category_name: &str,
    data: &Value,
    now: DateTime<Utc>,
) -> Result<Record, VaultError> {
    // Microseconds, the finer of the two backends' precisions: what is returned is what is stored.
    let now = now.trunc_subsecs(6);
    let cat = known_category(category_name)?;
    let data = validate(cat, data).map_err(VaultError::Invalid)?;
    let dek = data_key(conn, keys, citizen_id)?;
    let id = uuid::Uuid::now_v7().to_string();
    let sealed = seal_record(&dek, citizen_id, &id, cat.name, 1, &data)?;
    // Payments are recognised again by a keyed hash of (date, merchant, amount), as imports are.
    let dedup_key = (cat.name == "payment_history").then(|| crate::import::payment_dedup_key(keys, citizen_id, &data));
    let single_key = (cat.cardinality == Cardinality::Single).then_some(cat.name);
    write_transaction(conn, |conn| {
        let inserted = diesel::insert_into(vault_records::table)
            .values((
                vault_records::id.eq(&id),
                vault_records::citizen_id.eq(citizen_id),
                vault_records::category.eq(cat.name),
                vault_records::version.eq(1),
                vault_records::sealed.eq(&sealed),
                vault_records::single_key.eq(single_key),
                vault_records::dedup_key.eq(&dedup_key),
                vault_records::created_at.eq(now.naive_utc()),
                vault_records::updated_at.eq(now.naive_utc()),
            ))
            .execute(conn);
        match inserted {
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) if dedup_key.is_some() => {
                return Err(VaultError::DuplicateTransaction);
            }
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                return Err(VaultError::SingleRecordExists(cat.name.to_owned()));
            }
            other => other?,
        };
        let leaf = append(conn, &event(Action::RecordCreated, citizen_id, &id, cat.name), now)?;
        let paid_for = PaidFor {
            event_leaf: leaf,
            ref_kind: "record",
            ref_id: &id,
        };
        let records_held = held_in(conn, citizen_id, cat.name)?;
        pay_entrust(conn, citizen_id, cat.name, records_held, paid_for, now)?;
        Ok(())
    })?;
    Ok(Record {
        id,
        category: cat.name.to_owned(),
        data,
        version: 1,
        created_at: now,
        updated_at: now,
    })
}

fn owned_row(conn: &mut DbConnection, citizen_id: &str, record_id: &str) -> Result<RecordRow, VaultError> {
    vault_records::table
        .filter(vault_records::id.eq(record_id))
        .filter(vault_records::citizen_id.eq(citizen_id))
        .select(RecordRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(VaultError::NotFound)
}

pub fn get(conn: &mut DbConnection, keys: &KeyRing, citizen_id: &str, record_id: &str) -> Result<Record, VaultError> {
    let row = owned_row(conn, citizen_id, record_id)?;
    let dek = data_key(conn, keys, citizen_id)?;
    open(&dek, citizen_id, &row)
}

/// How many records the citizen holds per category (nothing is decrypted to count them).
pub fn count_by_category(conn: &mut DbConnection, citizen_id: &str) -> Result<Vec<(String, i64)>, VaultError> {
    use infobank_db::diesel::dsl::count_star;
    Ok(vault_records::table
        .filter(vault_records::citizen_id.eq(citizen_id))
        .group_by(vault_records::category)
        .select((vault_records::category, count_star()))
        .load(conn)?)
}

/// How many records of `category` the citizen holds (what the content x amount reward measures).
pub(crate) fn held_in(conn: &mut DbConnection, citizen_id: &str, category: &str) -> Result<i64, VaultError> {
    Ok(vault_records::table
        .filter(vault_records::citizen_id.eq(citizen_id))
        .filter(vault_records::category.eq(category))
        .count()
        .get_result(conn)?)
}

/// At most this many records per page.
pub const MAX_PAGE: i64 = 200;

/// The citizen's records in creation order, optionally of one category, after the record id
/// `after` (the previous page's last id).
pub fn list(
    conn: &mut DbConnection,
    keys: &KeyRing,
    citizen_id: &str,
    category_name: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Record>, VaultError> {
    let mut query = vault_records::table
        .filter(vault_records::citizen_id.eq(citizen_id))
        .select(RecordRow::as_select())
        .order(vault_records::id.asc())
        .limit(limit.clamp(1, MAX_PAGE))
        .into_boxed();
    if let Some(name) = category_name {
        query = query.filter(vault_records::category.eq(known_category(name)?.name));
    }
    if let Some(after) = after {
        query = query.filter(vault_records::id.gt(after.to_owned()));
    }
    let rows: Vec<RecordRow> = query.load(conn)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let dek = data_key(conn, keys, citizen_id)?;
    rows.iter().map(|row| open(&dek, citizen_id, row)).collect()
}

/// Every record the citizen holds in each of these categories (each one a key of the answer,
/// with its records in creation order), in one query, opened with `dek`, her data key, which
/// the caller unwrapped once (a disclosure reads it with the consent).
pub fn in_categories(
    conn: &mut DbConnection,
    dek: &DataKey,
    citizen_id: &str,
    categories: &[String],
) -> Result<BTreeMap<String, Vec<Record>>, VaultError> {
    Ok(in_categories_of_many(conn, &[(citizen_id, dek)], categories)?
        .pop()
        .unwrap_or_default())
}

/// [`in_categories`] for many citizens at once, in their order: a query per thousand citizens
/// rather than one each (a statistics run reads every participant).
pub fn in_categories_of_many(
    conn: &mut DbConnection,
    citizens: &[(&str, &DataKey)],
    categories: &[String],
) -> Result<Vec<BTreeMap<String, Vec<Record>>>, VaultError> {
    let names: Vec<&'static str> = categories
        .iter()
        .map(|name| known_category(name).map(|c| c.name))
        .collect::<Result<_, _>>()?;
    let empty: BTreeMap<String, Vec<Record>> = names.iter().map(|n| ((*n).to_owned(), Vec::new())).collect();
    let mut out = Vec::with_capacity(citizens.len());
    for chunk in citizens.chunks(1_000) {
        let ids: Vec<&str> = chunk.iter().map(|(id, _)| *id).collect();
        let rows: Vec<(String, RecordRow)> = vault_records::table
            .filter(vault_records::citizen_id.eq_any(&ids))
            .filter(vault_records::category.eq_any(&names))
            .order((vault_records::category.asc(), vault_records::id.asc()))
            .select((vault_records::citizen_id, RecordRow::as_select()))
            .load(conn)?;
        let mut by_citizen: BTreeMap<&str, Vec<&RecordRow>> = BTreeMap::new();
        for (citizen, row) in &rows {
            by_citizen.entry(citizen.as_str()).or_default().push(row);
        }
        for (citizen, dek) in chunk {
            let mut held = empty.clone();
            for row in by_citizen.get(citizen).into_iter().flatten() {
                let record = open(dek, citizen, row)?;
                held.entry(record.category.clone()).or_default().push(record);
            }
            out.push(held);
        }
    }
    Ok(out)
}

/// Replaces a record's data; the version goes up by one and the data is sealed anew.
pub fn update(
    conn: &mut DbConnection,
    keys: &KeyRing,
    citizen_id: &str,
    record_id: &str,
    data: &Value,
    now: DateTime<Utc>,
) -> Result<Record, VaultError> {
    let now = now.trunc_subsecs(6);
    let dek = data_key(conn, keys, citizen_id)?;
    write_transaction(conn, |conn| {
        let row = owned_row(conn, citizen_id, record_id)?;
        let cat = known_category(&row.category)?;
        let data = validate(cat, data).map_err(VaultError::Invalid)?;
        let version = row.version + 1;
        let sealed = seal_record(&dek, citizen_id, record_id, cat.name, version, &data)?;
        // The version in the WHERE clause makes a concurrent update lose cleanly, not overwrite.
        let changed = diesel::update(
            vault_records::table
                .filter(vault_records::id.eq(record_id))
                .filter(vault_records::version.eq(row.version)),
        )
        .set((
            vault_records::version.eq(version),
            vault_records::sealed.eq(&sealed),
            vault_records::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
        if changed != 1 {
            return Err(VaultError::NotFound);
        }
        append(
            conn,
            &event(Action::RecordUpdated, citizen_id, record_id, cat.name),
            now,
        )?;
        Ok(Record {
            id: record_id.to_owned(),
            category: cat.name.to_owned(),
            data,
            version,
            created_at: row.created_at.and_utc(),
            updated_at: now,
        })
    })
}

pub fn delete(
    conn: &mut DbConnection,
    citizen_id: &str,
    record_id: &str,
    now: DateTime<Utc>,
) -> Result<(), VaultError> {
    write_transaction(conn, |conn| {
        let row = owned_row(conn, citizen_id, record_id)?;
        diesel::delete(vault_records::table.filter(vault_records::id.eq(record_id))).execute(conn)?;
        append(
            conn,
            &event(Action::RecordDeleted, citizen_id, record_id, &row.category),
            now,
        )?;
        Ok(())
    })
}
