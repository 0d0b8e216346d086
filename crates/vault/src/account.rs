//! What a citizen can do with everything at once: take it away (export) or end it (deletion).

use chrono::{DateTime, SecondsFormat, Utc};
use infobank_accounts::profile;
use infobank_audit::{Action, Actor, AuditEvent, append};
use infobank_coins::Account;
use infobank_coins::statement::all_lines;
use infobank_crypto::KeyRing;
use infobank_db::diesel::prelude::*;
use infobank_db::schema::{accounts, vault_records};
use infobank_db::{DbConnection, write_transaction};
use serde_json::{Value, json};

use crate::VaultError;
use crate::records::{MAX_PAGE, Record, list};

/// Everything held about the citizen as one JSON document (data portability, GDPR art. 20 and
/// APPI art. 33). Consents and disclosures join it as that capability arrives.
/// The export is recorded in the audit log before it is handed out.
pub fn export(
    conn: &mut DbConnection,
    keys: &KeyRing,
    citizen_id: &str,
    now: DateTime<Utc>,
) -> Result<Value, VaultError> {
    let account = profile(conn, keys, citizen_id)?;
    let mut records: Vec<Record> = Vec::new();
    loop {
        let after = records.last().map(|r| r.id.clone());
        let page = list(conn, keys, citizen_id, None, after.as_deref(), MAX_PAGE)?;
        let done = (page.len() as i64) < MAX_PAGE;
        records.extend(page);
        if done {
            break;
        }
    }
    let coin_entries: Vec<Value> = all_lines(conn, Account::Citizen(citizen_id))?
        .into_iter()
        .map(|line| {
            json!({
                "id": line.entry.id,
                "amount": line.amount,
                "balance_after": line.balance_after,
                "reason": line.entry.reason,
                "ref": { "kind": line.entry.ref_kind, "id": line.entry.ref_id },
                "policy_version": line.entry.policy_version,
                "inputs": line.entry.inputs,
                "audit_leaf_hash": infobank_audit::merkle::to_hex(&line.entry.audit_leaf),
                "at": line.entry.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            })
        })
        .collect();
    let event = AuditEvent::new(Action::DataExported, Actor::new("citizen", citizen_id)).object("account", citizen_id);
    write_transaction(conn, |conn| append(conn, &event, now))?;
    Ok(json!({
        "format": "infobank-export-v1",
        "exported_at": now.to_rfc3339_opts(SecondsFormat::Millis, true),
        "account": account,
        "records": records,
        "consents": [],
        "disclosures": [],
        "coin_entries": coin_entries,
    }))
}

/// Deletes the account: its records, sessions and checkpoints go with it, and with the account
/// row goes the only copy of its wrapped data key (crypto-shredding): whatever ciphertext remains
/// anywhere the server can reach no longer opens. The email is free for a new sign-up. The audit
/// leaf keeps only the account id.
pub fn delete_account(conn: &mut DbConnection, citizen_id: &str, now: DateTime<Utc>) -> Result<(), VaultError> {
    write_transaction(conn, |conn| {
        infobank_db::lock_rows(
            conn,
            infobank_db::Lockable::Accounts,
            &[citizen_id],
            infobank_db::LockMode::Update,
        )?;
        delete_account_in_transaction(conn, citizen_id, now)
    })
}

/// [`delete_account`] inside the caller's transaction (which must hold the account's row lock,
/// so that nothing can refer to the account between the caller's checks and the deletion).
pub fn delete_account_in_transaction(
    conn: &mut DbConnection,
    citizen_id: &str,
    now: DateTime<Utc>,
) -> Result<(), VaultError> {
    let event =
        AuditEvent::new(Action::AccountDeleted, Actor::new("citizen", citizen_id)).object("account", citizen_id);
    diesel::delete(vault_records::table.filter(vault_records::citizen_id.eq(citizen_id))).execute(conn)?;
    let deleted = diesel::delete(
        accounts::table
            .filter(accounts::id.eq(citizen_id))
            .filter(accounts::role.eq("citizen")),
    )
    .execute(conn)?;
    if deleted != 1 {
        return Err(VaultError::NotFound);
    }
    append(conn, &event, now)?;
    Ok(())
}
