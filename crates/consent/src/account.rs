//! What a citizen does with everything at once, now that consents exist: the export includes
//! consents and disclosures, and deleting the account first revokes every live consent (each
//! with its leaf and receipt, releasing reservations) so no company keeps access.

use chrono::{DateTime, Utc};
use infobank_crypto::{KeyRing, TokenSigner};
use infobank_db::{DbConnection, write_transaction};
use infobank_db::{LockMode, Lockable, lock_rows};
use serde_json::{Value, json};

use crate::ConsentError;
use crate::consents::{MAX_PAGE, end_all_in_transaction, for_citizen};
use crate::disclosure;

/// The citizen's export (`infobank-export-v1`) with consents (and their latest receipts),
/// disclosures (with predicate answers) and the statistics runs that counted her filled in.
pub fn export(
    conn: &mut DbConnection,
    keys: &KeyRing,
    citizen_id: &str,
    now: DateTime<Utc>,
) -> Result<Value, ConsentError> {
    let mut document = infobank_vault::account::export(conn, keys, citizen_id, now)?;
    let mut consents = Vec::new();
    loop {
        let page = for_citizen(
            conn,
            citizen_id,
            consents.last().map(|c: &crate::consents::Consent| c.id.as_str()),
            MAX_PAGE,
        )?;
        let done = (page.len() as i64) < MAX_PAGE;
        consents.extend(page);
        if done {
            break;
        }
    }
    let mut disclosures = Vec::new();
    loop {
        let before = disclosures.last().map(|d: &disclosure::DisclosureRecord| d.id.clone());
        let page = disclosure::for_citizen(conn, keys, citizen_id, before.as_deref(), disclosure::MAX_PAGE)?;
        let done = (page.len() as i64) < disclosure::MAX_PAGE;
        disclosures.extend(page);
        if done {
            break;
        }
    }
    document["consents"] = json!(consents);
    document["disclosures"] = json!(disclosures);
    // Every statistics run that counted her, with the proof that it did.
    document["statistics_runs"] = json!(crate::statistics::run::counted_in(conn, citizen_id, None)?);
    Ok(document)
}

/// Revokes the citizen's live consents and deletes the account (crypto-shredding), in one
/// transaction holding the rows of the citizen's consents and account (in the order of
/// `infobank_db::locks`): no consent can be given or used in between, and no reservation is left
/// held for a consent that no longer exists.
pub fn delete_account(
    conn: &mut DbConnection,
    signer: &TokenSigner,
    citizen_id: &str,
    now: DateTime<Utc>,
) -> Result<(), ConsentError> {
    write_transaction(conn, |conn| {
        crate::consents::lock_citizen_consents(conn, citizen_id)?;
        lock_rows(conn, Lockable::Accounts, &[citizen_id], LockMode::Update)?;
        end_all_in_transaction(conn, signer, citizen_id, now)?;
        Ok(infobank_vault::account::delete_account_in_transaction(
            conn, citizen_id, now,
        )?)
    })
}
