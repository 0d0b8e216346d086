//! Access tokens: EdDSA (Ed25519) JWTs. Each purpose (citizen, operator, regulator, company) has
//! its own audience, so a token minted for one can never be replayed against another. Expiry is
//! checked against a `now` the caller passes in (time is a parameter), not the library's clock.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::keys::KeyRing;

pub const ISSUER: &str = "infobank";

/// The longest life of any token the server issues (the company portal's 60 minutes). A token
/// that claims a longer one was not issued under this server's rules, whoever signed it.
pub const LONGEST_TOKEN_LIFETIME: chrono::Duration = chrono::Duration::minutes(60);

/// How far ahead of this node's clock a token's `iat` or `nbf` may lie: nodes' clocks differ a
/// little, and a company's token may be dated to the next second (after a secret replacement).
/// Beyond it, a token from the future is refused.
pub const ALLOWED_CLOCK_SKEW: chrono::Duration = chrono::Duration::seconds(60);

/// How long after a rotation an earlier token-signing key still verifies access tokens: the
/// longest token the server issues, so that a rotation whose restarts are done within the hour
/// signs nobody out, while a leaked old key cannot mint tokens for longer. Receipts it signed
/// verify for as long as the key is published (the JWKS), since those are checked by their
/// holders.
pub const PREVIOUS_KEY_VERIFIES_TOKENS_FOR: chrono::Duration = LONGEST_TOKEN_LIFETIME;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub role: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// Not before; the server never sets it, but honours it when a token carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
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

/// A public key that verifies tokens, under its key id.
struct VerifyingKey {
    key_id: String,
    decoding: DecodingKey,
    public_key: Vec<u8>,
    /// For an earlier key, the Unix second from which it verifies no access token.
    tokens_until: Option<i64>,
}

impl VerifyingKey {
    fn new(public_key: &[u8], tokens_until: Option<i64>) -> Self {
        Self {
            key_id: crate::signing::key_id_of(public_key),
            decoding: DecodingKey::from_ed_der(public_key),
            public_key: public_key.to_vec(),
            tokens_until,
        }
    }
}

/// Signs with the current key; verifies with the current key, and with an earlier one for
/// [`PREVIOUS_KEY_VERIFIES_TOKENS_FOR`] after its rotation (a rotation must not sign everybody
/// out); publishes every earlier one still kept (the receipts already issued must verify).
pub struct TokenSigner {
    encoding: EncodingKey,
    key_id: String,
    /// The current key first, then the earlier ones.
    verifying: Vec<VerifyingKey>,
}

impl TokenSigner {
    pub fn new(keys: &KeyRing) -> Self {
        let mut verifying = vec![VerifyingKey::new(keys.signing_public_key(), None)];
        // A rotation that recorded no time (it stopped half-way) gives its key no grace.
        verifying.extend(keys.previous_signing_keys().iter().map(|k| {
            let until = k
                .replaced_at
                .map_or(i64::MIN, |at| (at + PREVIOUS_KEY_VERIFIES_TOKENS_FOR).timestamp());
            VerifyingKey::new(&k.public_key, Some(until))
        }));
        Self {
            encoding: EncodingKey::from_ed_der(keys.signing_pkcs8()),
            key_id: keys.signing_key_id().to_owned(),
            verifying,
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
            nbf: None,
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

    /// Verifies signature, issuer and audience, then the times against `now`: expiry (no
    /// leeway), `iat` and `nbf` not ahead by more than [`ALLOWED_CLOCK_SKEW`], and a life no
    /// longer than [`LONGEST_TOKEN_LIFETIME`].
    pub fn verify(&self, token: &str, audience: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // jsonwebtoken would read the system clock; expiry is checked below against `now`.
        validation.validate_exp = false;
        validation.leeway = 0;
        // The header's key id picks the key; a token without one, or naming a key this
        // installation does not publish, is refused before any signature check.
        let header = jsonwebtoken::decode_header(token).map_err(|e| TokenError::Invalid(e.to_string()))?;
        let key = header
            .kid
            .and_then(|kid| self.verifying.iter().find(|k| k.key_id == kid))
            .ok_or_else(|| TokenError::Invalid("unknown signing key".into()))?;
        // Past its grace an earlier key's tokens are treated as expired: the client gets a new one.
        if key.tokens_until.is_some_and(|until| now.timestamp() >= until) {
            return Err(TokenError::Expired);
        }
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        let claims = data.claims;
        if claims.exp <= now.timestamp() {
            return Err(TokenError::Expired);
        }
        let ahead = (now + ALLOWED_CLOCK_SKEW).timestamp();
        if claims.iat > ahead || claims.nbf.is_some_and(|nbf| nbf > ahead) {
            return Err(TokenError::Invalid("issued in the future".into()));
        }
        if claims.exp.saturating_sub(claims.iat) > LONGEST_TOKEN_LIFETIME.num_seconds() {
            return Err(TokenError::Invalid(
                "lives longer than any token this server issues".into(),
            ));
        }
        Ok(claims)
    }

    /// Every verifying key as a JWK (RFC 7517, OKP key type per RFC 8037), the current first.
    pub fn jwks_keys(&self) -> Vec<serde_json::Value> {
        self.verifying
            .iter()
            .map(|k| crate::signing::jwk(&k.key_id, &k.public_key))
            .collect()
    }

    /// A JSON Web Key Set of the verifying keys.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": self.jwks_keys() })
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
    fn tokens_from_the_future_or_longer_lived_than_any_issued_are_refused() {
        let (_tmp, s) = signer();
        let now = t0();
        let refused = |token: &str| matches!(s.verify(token, "aud", now), Err(TokenError::Invalid(_)));
        let ahead = now + ALLOWED_CLOCK_SKEW + Duration::seconds(1);
        let dated_ahead = s.issue("a", "citizen", "aud", Duration::minutes(15), ahead).unwrap();
        assert!(refused(&dated_ahead.token), "iat beyond the allowed skew");
        let slightly_ahead = s
            .issue("a", "citizen", "aud", Duration::minutes(15), now + ALLOWED_CLOCK_SKEW)
            .unwrap();
        assert!(s.verify(&slightly_ahead.token, "aud", now).is_ok(), "within the skew");
        let longest = s.issue("a", "citizen", "aud", LONGEST_TOKEN_LIFETIME, now).unwrap();
        assert!(s.verify(&longest.token, "aud", now).is_ok());
        let too_long = s
            .issue(
                "a",
                "citizen",
                "aud",
                LONGEST_TOKEN_LIFETIME + Duration::seconds(1),
                now,
            )
            .unwrap();
        assert!(refused(&too_long.token), "a life beyond the longest issued");
        let not_before = |nbf: DateTime<Utc>| {
            s.sign(&serde_json::json!({
                "iss": ISSUER, "aud": "aud", "sub": "a", "role": "citizen", "jti": "j",
                "iat": now.timestamp(), "exp": now.timestamp() + 600, "nbf": nbf.timestamp(),
            }))
            .unwrap()
        };
        assert!(refused(&not_before(ahead)), "nbf beyond the allowed skew");
        assert!(s.verify(&not_before(now), "aud", now).is_ok());
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

    /// After a rotation the new key signs; tokens the old key signed still verify for the grace
    /// period (not after it, though the key stays in the key set for receipts). Retiring the
    /// old key refuses its tokens. A token whose header names the old key but which a stranger
    /// signed is refused.
    #[test]
    fn an_old_key_verifies_tokens_for_its_grace_and_receipts_until_retired() {
        let tmp = tempfile::tempdir().unwrap();
        let before = TokenSigner::new(&KeyRing::load_or_create(tmp.path()).unwrap());
        let now = t0();
        let old = before.issue("a", "citizen", "aud", Duration::minutes(15), now).unwrap();
        // Minted with the old key half an hour after the rotation, to last as long as any token
        // may: past the grace it must fail although its own expiry is still ahead.
        let long = before
            .issue(
                "a",
                "citizen",
                "aud",
                LONGEST_TOKEN_LIFETIME,
                now + Duration::minutes(30),
            )
            .unwrap();

        let new_kid = KeyRing::rotate_signing_key(tmp.path(), now).unwrap();
        assert_ne!(new_kid, before.key_id());
        let after = TokenSigner::new(&KeyRing::load_or_create(tmp.path()).unwrap());
        assert_eq!(after.key_id(), new_kid);
        let kids: Vec<String> = after
            .jwks_keys()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(kids, [new_kid.clone(), before.key_id().to_owned()]);
        assert_eq!(after.verify(&old.token, "aud", now).unwrap().sub, "a");
        let grace = PREVIOUS_KEY_VERIFIES_TOKENS_FOR;
        assert!(
            after
                .verify(&long.token, "aud", now + grace - Duration::seconds(1))
                .is_ok()
        );
        assert_eq!(
            after.verify(&long.token, "aud", now + grace),
            Err(TokenError::Expired),
            "a leaked old key mints nothing that lasts"
        );
        assert_eq!(after.jwks_keys().len(), 2, "receipts of the old key still verify");
        let fresh = after.issue("b", "citizen", "aud", Duration::minutes(15), now).unwrap();
        assert_eq!(after.verify(&fresh.token, "aud", now).unwrap().sub, "b");
        assert!(
            before.verify(&fresh.token, "aud", now).is_err(),
            "the old signer knows no new key"
        );

        // A stranger's key under the old key id: the signature check still fails.
        let (_tmp, stranger) = signer();
        let forged_claims = AccessClaims {
            iss: ISSUER.into(),
            aud: "aud".into(),
            sub: "c".into(),
            role: "operator".into(),
            iat: now.timestamp(),
            exp: now.timestamp() + 60,
            jti: "x".into(),
            nbf: None,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(before.key_id().to_owned());
        let forged = jsonwebtoken::encode(&header, &forged_claims, &stranger.encoding).unwrap();
        assert!(after.verify(&forged, "aud", now).is_err());

        KeyRing::retire_signing_key(tmp.path(), before.key_id()).unwrap();
        let retired = TokenSigner::new(&KeyRing::load_or_create(tmp.path()).unwrap());
        assert_eq!(retired.jwks_keys().len(), 1);
        assert_eq!(
            retired.verify(&old.token, "aud", now),
            Err(TokenError::Invalid("unknown signing key".into()))
        );
        assert!(retired.verify(&fresh.token, "aud", now).is_ok());
        // Only an earlier key can be retired: the current one and an id that is not one (even
        // when a file of that name exists) are refused, and nothing is removed.
        assert!(KeyRing::retire_signing_key(tmp.path(), &new_kid).is_err());
        let odd = tmp.path().join("token-signing.previous.abc.pub");
        std::fs::write(&odd, b"x").unwrap();
        assert!(KeyRing::retire_signing_key(tmp.path(), "abc").is_err());
        assert!(odd.exists());
    }

    /// A rotation stopped after keeping the current key's public half (and after staging its new
    /// key) leaves the current key published once, not retirable, and the next rotation clears
    /// the staged file. Rotating a directory with no keys creates nothing.
    #[test]
    fn an_interrupted_rotation_leaves_one_current_key() {
        let tmp = tempfile::tempdir().unwrap();
        let keys = KeyRing::load_or_create(tmp.path()).unwrap();
        let kid = keys.signing_key_id().to_owned();
        let kept = tmp.path().join(format!("token-signing.previous.{kid}.pub"));
        std::fs::write(&kept, keys.signing_public_key()).unwrap();
        std::fs::set_permissions(&kept, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        let staged = tmp.path().join(".rotating-0123456789abcdef");
        std::fs::write(&staged, b"half a rotation").unwrap();

        let signer = TokenSigner::new(&KeyRing::load_or_create(tmp.path()).unwrap());
        assert_eq!(signer.jwks_keys().len(), 1);
        assert!(KeyRing::retire_signing_key(tmp.path(), &kid).is_err());
        assert!(kept.exists());

        let before = signer
            .issue("a", "citizen", "aud", Duration::minutes(15), t0())
            .unwrap();
        let new_kid = KeyRing::rotate_signing_key(tmp.path(), t0()).unwrap();
        assert!(!staged.exists());
        let after = TokenSigner::new(&KeyRing::load_or_create(tmp.path()).unwrap());
        assert!(
            after.verify(&before.token, "aud", t0()).is_ok(),
            "the finished rotation recorded its time: the old key has its grace"
        );
        let kids: Vec<String> = TokenSigner::new(&KeyRing::load_or_create(tmp.path()).unwrap())
            .jwks_keys()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(kids, [new_kid, kid]);

        let empty = tempfile::tempdir().unwrap();
        assert!(KeyRing::rotate_signing_key(empty.path(), t0()).is_err());
        assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);
    }

    /// A file of earlier keys that holds another key than its name says is refused at start.
    #[test]
    fn a_previous_key_file_must_match_its_name() {
        let tmp = tempfile::tempdir().unwrap();
        KeyRing::load_or_create(tmp.path()).unwrap();
        let kid = KeyRing::rotate_signing_key(tmp.path(), t0()).unwrap();
        KeyRing::rotate_signing_key(tmp.path(), t0()).unwrap();
        let names: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("token-signing.previous."))
            .collect();
        assert_eq!(names.len(), 2);
        let keep = tmp.path().join(format!("token-signing.previous.{kid}.pub"));
        let other = names.iter().find(|n| !n.contains(&kid)).unwrap();
        std::fs::copy(tmp.path().join(other), &keep).unwrap();
        assert!(matches!(
            KeyRing::load_or_create(tmp.path()),
            Err(crate::KeyError::Invalid { .. })
        ));
    }
}
