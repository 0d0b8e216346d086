//! Password hashing: argon2id with the crate's OWASP-recommended defaults (m=19 MiB, t=2, p=1),
//! PHC string format so parameters can be raised later without breaking old hashes.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error(transparent)]
    Random(#[from] crate::random::RandomError),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let salt_bytes = crate::random::bytes::<16>()?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// False for a wrong password and for a malformed stored hash alike: the caller answers both
/// with the same generic 401.
pub fn verify_password(password: &str, phc_hash: &str) -> bool {
    match PasswordHash::new(phc_hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_only_the_same_password() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
    }

    #[test]
    fn same_password_gets_different_salts() {
        assert_ne!(
            hash_password("pw-pw-pw-pw-pw").unwrap(),
            hash_password("pw-pw-pw-pw-pw").unwrap()
        );
    }

    #[test]
    fn malformed_hash_is_a_plain_no() {
        assert!(!verify_password("anything", "not a phc string"));
    }
}
