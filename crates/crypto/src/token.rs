//! Access tokens: EdDSA (Ed25519) JWTs. Each purpose (citizen, operator, regulator, company) has
//! its own audience, so a token minted for one can never be replayed against another. Expiry is
//! checked against a `now` the caller passes in (time is a parameter), not the library's clock.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::keys::KeyRing;

pub const ISSUER: &str = "infobank";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub role: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_in: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("token has expired")]
    Expired,
    #[error("token is not valid: {0}")]
    Invalid(String),
}

pub struct TokenSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    key_id: String,
    public_key: Vec<u8>,
}

impl TokenSigner {
    pub fn new(keys: &KeyRing) -> Self {
        Self {
            encoding: EncodingKey::from_ed_der(keys.signing_pkcs8()),
            decoding: DecodingKey::from_ed_der(keys.signing_public_key()),
            key_id: keys.signing_key_id().to_owned(),
            public_key: keys.signing_public_key().to_vec(),
        }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn issue(
        &self,
        subject: &str,
        role: &str,
        audience: &str,
        ttl: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken, TokenError> {
        let claims = AccessClaims {
            iss: ISSUER.to_owned(),
            aud: audience.to_owned(),
            sub: subject.to_owned(),
            role: role.to_owned(),
            iat: now.timestamp(),
            exp: (now + ttl).timestamp(),
            jti: uuid::Uuid::now_v7().to_string(),
        };
        let token = self.sign(&claims)?;
        Ok(IssuedToken {
            token,
            expires_in: ttl.num_seconds(),
        })
    }

    /// Signs any serialisable claims as a compact JWS with this installation's key id.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, TokenError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.key_id.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|e| TokenError::Invalid(e.to_string()))
    }

    /// Verifies signature, issuer and audience, then expiry against `now` (no leeway).
    pub fn verify(&self, token: &str, audience: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // jsonwebtoken would read the system clock; expiry is checked below against `now`.
        validation.validate_exp = false;
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        if data.claims.exp <= now.timestamp() {
            return Err(TokenError::Expired);
        }
        Ok(data.claims)
    }

    /// This signer's public key as a JWK (RFC 7517, OKP key type per RFC 8037).
    pub fn jwk(&self) -> serde_json::Value {
        crate::signing::jwk(&self.key_id, &self.public_key)
    }

    /// A JSON Web Key Set with just this key.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [self.jwk()] })
    }
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use chrono::Duration;

    /// A fixed instant: these tests are about the arithmetic, not about today.
    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn signer() -> (tempfile::TempDir, TokenSigner) {
        let tmp = tempfile::tempdir().unwrap();
        let keys = KeyRing::load_or_create(tmp.path()).unwrap();
        let s = TokenSigner::new(&keys);
        (tmp, s)
    }

    #[test]
    fn issued_token_verifies_for_its_audience_only() {
        let (_tmp, s) = signer();
        let now = t0();
        let t = s
            .issue("acct-1", "citizen", "infobank:citizen", Duration::minutes(15), now)
            .unwrap();
        assert_eq!(t.expires_in, 900);
        let claims = s.verify(&t.token, "infobank:citizen", now).unwrap();
        assert_eq!(claims.sub, "acct-1");
        assert_eq!(claims.role, "citizen");
        assert!(matches!(
            s.verify(&t.token, "infobank:regulator", now),
            Err(TokenError::Invalid(_))
        ));
    }

    #[test]
    fn expiry_is_checked_against_the_given_time() {
        let (_tmp, s) = signer();
        let now = t0();
        let t = s.issue("a", "citizen", "aud", Duration::minutes(15), now).unwrap();
        assert!(s.verify(&t.token, "aud", now + Duration::minutes(14)).is_ok());
        assert_eq!(
            s.verify(&t.token, "aud", now + Duration::minutes(15)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn tampered_or_foreign_tokens_are_rejected() {
        let (_tmp, s) = signer();
        let (_tmp2, other) = signer();
        let now = t0();
        let t = s.issue("a", "citizen", "aud", Duration::minutes(15), now).unwrap();
        assert!(other.verify(&t.token, "aud", now).is_err());
        let mut parts: Vec<&str> = t.token.split('.').collect();
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            br#"{"iss":"infobank","aud":"aud","sub":"b","role":"operator","iat":0,"exp":9999999999,"jti":"x"}"#,
        );
        parts[1] = &forged;
        assert!(s.verify(&parts.join("."), "aud", now).is_err());
        assert!(s.verify("not.a.jwt", "aud", now).is_err());
    }

    #[test]
    fn jwks_publishes_the_verifying_key() {
        let (_tmp, s) = signer();
        let jwks = s.jwks();
        let key = &jwks["keys"][0];
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["kid"], s.key_id());
        // The published x must verify a token on its own, as a partner's library would do it.
        let decoding = DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
        let now = t0();
        let t = s.issue("a", "citizen", "aud", Duration::minutes(1), now).unwrap();
        let mut v = Validation::new(Algorithm::EdDSA);
        v.set_audience(&["aud"]);
        assert!(jsonwebtoken::decode::<AccessClaims>(&t.token, &decoding, &v).is_ok());
    }
}
