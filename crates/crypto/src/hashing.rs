//! Hashes and keyed hashes: SHA-256 for storing session tokens, HMAC-SHA256 blind indexes so
//! that an email address can be looked up without being stored.

use ring::{digest, hmac};

pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Constant-time equality for secrets compared against user input (CSRF tokens and the like).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // Accumulate differences over every byte instead of returning at the first mismatch.
    a.len() == b.len() && std::hint::black_box(a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y))) == 0
}

/// A key for deterministic keyed hashes ("blind indexes"): equal inputs give equal outputs, so
/// a unique index works, but the output reveals nothing without the key.
pub struct BlindIndexKey(hmac::Key);

impl BlindIndexKey {
    /// Derives a purpose-bound key from a root secret, so one secret on disk can serve several
    /// purposes whose outputs never coincide.
    pub fn derive(root_secret: &[u8], purpose: &str) -> Self {
        let root = hmac::Key::new(hmac::HMAC_SHA256, root_secret);
        let tag = hmac::sign(&root, purpose.as_bytes());
        Self(hmac::Key::new(hmac::HMAC_SHA256, tag.as_ref()))
    }

    /// Hex of HMAC-SHA256(key, input).
    pub fn index(&self, input: &str) -> String {
        hex(hmac::sign(&self.0, input.as_bytes()).as_ref())
    }
}

impl std::fmt::Debug for BlindIndexKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlindIndexKey(<redacted>)")
    }
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
pub(crate) mod tests_support {
    pub fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_answer() {
        // FIPS 180-2 example "abc".
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn blind_index_depends_on_purpose_and_input() {
        let a = BlindIndexKey::derive(b"root", "email");
        let b = BlindIndexKey::derive(b"root", "other");
        assert_eq!(a.index("x@example.com"), a.index("x@example.com"));
        assert_ne!(a.index("x@example.com"), a.index("y@example.com"));
        assert_ne!(a.index("x@example.com"), b.index("x@example.com"));
        assert_eq!(format!("{a:?}"), "BlindIndexKey(<redacted>)");
    }

    #[test]
    fn constant_time_eq_compares_length_and_content() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
