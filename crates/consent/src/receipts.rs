//! Consent receipts: a compact JWS (EdDSA, signed with the key published in the JWKS) over a
//! consent record with the fields of ISO/IEC TS 27560 and the Kantara consent receipt. Every
//! change of a consent issues a new receipt naming the change and its audit leaf.

use chrono::{DateTime, SecondsFormat, Utc};
use infobank_crypto::TokenSigner;
use serde::{Deserialize, Serialize};

use crate::ConsentError;
use crate::companies::Company;
use crate::offers::Offer;
use crate::purposes::purpose;

pub const RECEIPT_VERSION: &str = "infobank-consent-receipt-v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub id: String,
    pub name: String,
    /// Japan's corporate number, for the recipient.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corporate_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptPurpose {
    pub code: String,
    /// The W3C DPV purpose.
    pub dpv: String,
    pub description: String,
}

/// The signed consent record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub iss: String,
    /// This receipt's id.
    pub jti: String,
    pub iat: i64,
    pub receipt_version: String,
    pub jurisdiction: String,
    /// The legal basis: consent (DPV).
    pub legal_basis: String,
    pub consent_id: String,
    /// `active`, `paused`, `revoked` or `expired` after the event.
    pub status: String,
    /// What happened: `consent.granted`, `consent.paused`, …
    pub event: String,
    /// The citizen (PII principal), by the recipient's pseudonym: never the account id, so two
    /// companies shown receipts cannot join them on it.
    pub subject: String,
    /// The information bank that holds the data and records the consent.
    pub controller: Party,
    /// The company that receives the data, and how it knows the citizen.
    pub recipient: Party,
    pub recipient_subject_pseudonym: String,
    pub offer_id: String,
    pub purpose: ReceiptPurpose,
    pub categories: Vec<String>,
    pub data_range_days: i32,
    pub access: String,
    pub max_fetches_per_day: i32,
    pub retention_days: i32,
    pub granted_at: String,
    pub expires_at: String,
    /// Always `prohibited`.
    pub onward_transfer: String,
    pub reward_coins: i64,
    /// The audit leaf (hash, hex) of the event: `GET /api/v1/audit/proof/inclusion?leaf_hash=`
    /// proves it is in the public log once the sequencer has integrated it.
    pub audit_leaf_hash: String,
}

/// What a receipt is about.
pub struct ReceiptInput<'a> {
    pub consent_id: &'a str,
    pub status: &'a str,
    pub event: &'a str,
    pub subject_pseudonym: &'a str,
    pub company: &'a Company,
    pub offer: &'a Offer,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub audit_leaf: infobank_audit::merkle::Hash,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn build(input: &ReceiptInput<'_>, now: DateTime<Utc>) -> Receipt {
    let p = purpose(&input.offer.purpose);
    Receipt {
        iss: infobank_crypto::token::ISSUER.to_owned(),
        jti: uuid::Uuid::now_v7().to_string(),
        iat: now.timestamp(),
        receipt_version: RECEIPT_VERSION.to_owned(),
        jurisdiction: "JP".to_owned(),
        legal_basis: "dpv:Consent".to_owned(),
        consent_id: input.consent_id.to_owned(),
        status: input.status.to_owned(),
        event: input.event.to_owned(),
        subject: input.subject_pseudonym.to_owned(),
        controller: Party {
            id: "infobank".to_owned(),
            name: "infobank (information bank)".to_owned(),
            corporate_number: None,
        },
        recipient: Party {
            id: input.company.id.clone(),
            name: input.company.legal_name.clone(),
            corporate_number: Some(input.company.corporate_number.clone()),
        },
        recipient_subject_pseudonym: input.subject_pseudonym.to_owned(),
        offer_id: input.offer.id.clone(),
        purpose: ReceiptPurpose {
            code: input.offer.purpose.clone(),
            dpv: p.map(|p| p.dpv).unwrap_or_default().to_owned(),
            description: p.map(|p| p.label_en).unwrap_or_default().to_owned(),
        },
        categories: input.offer.categories.clone(),
        data_range_days: input.offer.data_range_days,
        access: input.offer.access.clone(),
        max_fetches_per_day: input.offer.max_fetches_per_day,
        retention_days: input.offer.retention_days,
        granted_at: rfc3339(input.granted_at),
        expires_at: rfc3339(input.expires_at),
        onward_transfer: "prohibited".to_owned(),
        reward_coins: input.offer.reward_coins,
        audit_leaf_hash: infobank_audit::merkle::to_hex(&input.audit_leaf),
    }
}

/// Signs the receipt as a compact JWS.
pub fn sign(signer: &TokenSigner, receipt: &Receipt) -> Result<String, ConsentError> {
    signer.sign(receipt).map_err(|e| ConsentError::Signing(e.to_string()))
}
