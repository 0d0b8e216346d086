//! infobank-vault: what citizens entrust. Data categories and their validation, records sealed
//! under each citizen's data key, export, and account deletion by crypto-shredding.

pub mod account;
pub mod categories;
mod error;
pub mod import;
pub mod records;
pub mod validate;

pub use error::VaultError;
pub use records::Record;
