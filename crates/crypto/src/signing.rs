//! Raw Ed25519 signatures (RFC 8032) over documented byte strings: signed tree heads of the audit
//! log. Tokens and receipts use JWS through [`crate::token`] instead.

use base64::Engine as _;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};

use crate::hashing::{hex, sha256};

pub const SIGNATURE_LEN: usize = 64;

pub struct Ed25519Signer {
    pair: Ed25519KeyPair,
    key_id: String,
}

impl Ed25519Signer {
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, String> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|e| e.to_string())?;
        let key_id = key_id_of(pair.public_key().as_ref());
        Ok(Self { pair, key_id })
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }

    pub fn public_key(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// This key as a JWK (RFC 8037 OKP).
    pub fn jwk(&self) -> serde_json::Value {
        jwk(&self.key_id, self.public_key())
    }
}

impl std::fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519Signer")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// A short, stable id derived from a public key: the first 8 bytes of its SHA-256, in hex.
pub fn key_id_of(public_key: &[u8]) -> String {
    hex(&sha256(public_key)[..8])
}

pub fn jwk(key_id: &str, public_key: &[u8]) -> serde_json::Value {
    serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public_key),
        "kid": key_id,
        "alg": "EdDSA",
        "use": "sig",
    })
}

/// Verifies an Ed25519 signature; false for any malformed key or signature.
pub fn verify_ed25519(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(message, signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8032_test_vector_1() {
        // RFC 8032 §7.1 TEST 1: empty message.
        let public =
            crate::hashing::tests_support::unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        let sig = crate::hashing::tests_support::unhex(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        );
        assert!(verify_ed25519(&public, b"", &sig));
        assert!(!verify_ed25519(&public, b"x", &sig));
        assert!(!verify_ed25519(&public[..31], b"", &sig));
        assert!(!verify_ed25519(&public, b"", &sig[..63]));
    }

    #[test]
    fn sign_then_verify_and_jwk() {
        let doc = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
        let signer = Ed25519Signer::from_pkcs8(doc.as_ref()).unwrap();
        let sig = signer.sign(b"tree head");
        assert_eq!(sig.len(), SIGNATURE_LEN);
        assert!(verify_ed25519(signer.public_key(), b"tree head", &sig));
        assert!(!verify_ed25519(signer.public_key(), b"tree heaD", &sig));
        assert_eq!(signer.jwk()["kid"], signer.key_id());
        assert!(format!("{signer:?}").contains(signer.key_id()));
    }
}
