//! infobank-consent: approved companies ask, citizens decide, and data leaves the vault only
//! through a live consent, with a receipt, an audit leaf and a reward.
//!
//! - [`companies`]: applications, vetting (`applied -> approved | rejected`,
//!   `approved -> suspended -> approved | revoked`) and client credentials;
//! - [`offers`]: what a company asks for, and the operator's ethics review;
//! - [`consents`]: a citizen's yes, its lifecycle and its signed receipts ([`receipts`]);
//! - [`disclosure`]: the only way data leaves the vault: records, or only the answers of
//!   [`predicates`]; [`statistics`] release k-anonymous cells and never a person's data;
//! - [`pseudonym`]: how each company sees a citizen.

pub mod account;
pub mod companies;
pub mod consents;
pub mod corporate_number;
pub mod declines;
pub mod disclosure;
mod error;
pub mod notices;
pub mod offers;
pub mod oversight;
pub mod predicates;
pub mod pseudonym;
pub mod purposes;
pub mod receipts;
pub mod refusals;
pub mod statistics;

pub use error::{ConsentError, NotLive};

/// Every free-text field has a bound, and no control characters but line breaks and tabs
/// (PostgreSQL refuses NUL in text; the others have no business in a name or a reason).
pub(crate) fn check_text(field: &'static str, value: &str, max: usize) -> Result<String, ConsentError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max {
        return Err(ConsentError::invalid(field, format!("must be 1 to {max} characters")));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ConsentError::invalid(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}
