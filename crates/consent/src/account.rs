//! What a citizen does with everything at once, now that consents exist: the export includes
//! consents and disclosures, and deleting the account first revokes every live consent (each
//! with its leaf and receipt, releasing reservations) so no company keeps access.

use chrono::{DateTime, Utc};
use infobank_crypto::{KeyRing, TokenSigner};
use infobank_db::DbConnection;
use infobank_db::diesel::prelude::*;
use infobank_db::schema::consents;
use serde_json::{Value, json};

use crate::ConsentError;
use crate::consents::{Change, MAX_PAGE, change, for_citizen};
use crate::disclosure;

/// The citizen's export (`infobank-export-v1`) with consents (and their latest receipts) and
/// disclosures filled in.
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
        let page = disclosure::for_citizen(conn, citizen_id, before.as_deref(), disclosure::MAX_PAGE)?;
        let done = (page.len() as i64) < disclosure::MAX_PAGE;
        disclosures.extend(page);
        if done {
            break;
        }
    }
    document["consents"] = json!(consents);
    document["disclosures"] = json!(disclosures);
    Ok(document)
}

/// Revokes the citizen's live consents, then deletes the account (crypto-shredding).
pub fn delete_account(
    conn: &mut DbConnection,
    signer: &TokenSigner,
    citizen_id: &str,
    now: DateTime<Utc>,
) -> Result<(), ConsentError> {
    let live: Vec<String> = consents::table
        .filter(consents::citizen_id.eq(citizen_id))
        .filter(consents::status.eq_any(["active", "paused"]))
        .select(consents::id)
        .load(conn)?;
    for id in live {
        match change(conn, signer, citizen_id, &id, Change::Revoke, now) {
            // Expired in the meantime: nothing left to revoke.
            Ok(_) | Err(ConsentError::InvalidTransition { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(infobank_vault::account::delete_account(conn, citizen_id, now)?)
}
