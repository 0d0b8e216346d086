//! infobank-crypto: the one place that calls into ring, jsonwebtoken and argon2.
//!
//! Everything secret in here has a hand-written `Debug` that redacts, so a secret can never
//! reach a log line by way of `{:?}`.

pub mod envelope;
pub mod hashing;
pub mod keys;
pub mod password;
pub mod random;
pub mod signing;
pub mod token;

pub use envelope::{DataKey, Kek, SealError};
pub use hashing::{BlindIndexKey, sha256};
pub use keys::{KeyError, KeyRing};
pub use password::{PasswordError, hash_password, verify_password};
pub use signing::{Ed25519Signer, verify_ed25519};
pub use token::{AccessClaims, IssuedToken, TokenError, TokenSigner};
