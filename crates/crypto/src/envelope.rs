//! Envelope encryption. Every citizen has a random 256-bit data key (DEK); values are sealed
//! with AES-256-GCM under it, with associated data (AAD) that names where the value belongs, so a
//! ciphertext copied to another row does not open. DEKs are stored wrapped by a versioned
//! key-encryption key (KEK); rotating the KEK re-wraps DEKs and never touches sealed values.
//!
//! Sealed layout: `nonce (12 bytes) || ciphertext || tag (16 bytes)`, nonce random per seal.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

const TAG_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error(transparent)]
    Random(#[from] crate::random::RandomError),
    /// Wrong key, wrong associated data, or tampered bytes: AES-GCM cannot tell which.
    #[error("ciphertext does not open under this key and context")]
    Open,
    #[error("sealed value is too short to be valid")]
    Truncated,
}

fn aes_key(raw: &[u8; 32]) -> Result<LessSafeKey, SealError> {
    // Only fails for a wrong key length, which the array type rules out.
    UnboundKey::new(&AES_256_GCM, raw)
        .map(LessSafeKey::new)
        .map_err(|_| SealError::Open)
}

/// Seals with one copy of the plaintext: `nonce || ciphertext || tag` built in place.
fn seal_with(key: &LessSafeKey, nonce: [u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[NONCE_LEN..],
        )
        .map_err(|_| SealError::Open)?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Opens with one copy of the ciphertext.
fn open_with(key: &LessSafeKey, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(SealError::Truncated);
    }
    let (nonce_bytes, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce_bytes).map_err(|_| SealError::Truncated)?;
    let mut buf = body.to_vec();
    let len = key
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .map_err(|_| SealError::Open)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

/// Nonces for one key held in memory: a random 96-bit base drawn at the first seal, with a
/// counter XORed into its low 64 bits for each further seal. Within one instance nonces never
/// repeat; across instances of the same key (other requests, other processes) two nonces collide
/// only if their random bases differ by a small counter difference, as unlikely as two random
/// 96-bit nonces colliding. One system call per instance instead of one per seal.
struct NonceSequence {
    base: OnceLock<[u8; NONCE_LEN]>,
    counter: AtomicU64,
}

impl NonceSequence {
    fn new() -> Self {
        Self {
            base: OnceLock::new(),
            counter: AtomicU64::new(0),
        }
    }

    fn next(&self) -> Result<[u8; NONCE_LEN], SealError> {
        let base = match self.base.get() {
            Some(base) => *base,
            None => {
                let fresh = crate::random::bytes::<NONCE_LEN>()?;
                *self.base.get_or_init(|| fresh)
            }
        };
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut nonce = base;
        for (byte, c) in nonce[NONCE_LEN - 8..].iter_mut().zip(n.to_be_bytes()) {
            *byte ^= c;
        }
        Ok(nonce)
    }
}

/// A citizen's data key. Lives in memory only while a request needs it; the AES key schedule is
/// prepared once per instance, not once per record.
pub struct DataKey {
    raw: [u8; 32],
    key: LessSafeKey,
    nonces: NonceSequence,
}

impl DataKey {
    fn from_raw(raw: [u8; 32]) -> Result<Self, SealError> {
        Ok(Self {
            key: aes_key(&raw)?,
            raw,
            nonces: NonceSequence::new(),
        })
    }

    pub fn generate() -> Result<Self, SealError> {
        Self::from_raw(crate::random::bytes::<32>()?)
    }

    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        seal_with(&self.key, self.nonces.next()?, aad, plaintext)
    }

    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        open_with(&self.key, aad, sealed)
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// A key-encryption key of a given version. Wraps DEKs; the AAD binds the wrapped DEK to its
/// owner so a wrapped key cannot be swapped between accounts.
pub struct Kek {
    version: u32,
    key: [u8; 32],
}

impl Kek {
    pub fn new(version: u32, key: [u8; 32]) -> Self {
        Self { version, key }
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn wrap(&self, owner: &str, dek: &DataKey) -> Result<Vec<u8>, SealError> {
        // Wrapping is rare (sign-up, rotation): a fresh random nonce each time.
        let nonce = crate::random::bytes::<NONCE_LEN>()?;
        seal_with(&aes_key(&self.key)?, nonce, &self.wrap_aad(owner), &dek.raw)
    }

    pub fn unwrap_key(&self, owner: &str, wrapped: &[u8]) -> Result<DataKey, SealError> {
        let raw = open_with(&aes_key(&self.key)?, &self.wrap_aad(owner), wrapped)?;
        let bytes: [u8; 32] = raw.try_into().map_err(|_| SealError::Open)?;
        DataKey::from_raw(bytes)
    }

    fn wrap_aad(&self, owner: &str) -> Vec<u8> {
        format!("infobank-dek-wrap|v{}|{owner}", self.version).into_bytes()
    }
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kek")
            .field("version", &self.version)
            .field("key", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip() {
        let dek = DataKey::generate().unwrap();
        let sealed = dek.seal(b"acct-1|email", b"hanako@example.jp").unwrap();
        assert_eq!(dek.open(b"acct-1|email", &sealed).unwrap(), b"hanako@example.jp");
        assert!(!sealed.windows(7).any(|w| w == b"example"));
    }

    #[test]
    fn different_context_does_not_open() {
        let dek = DataKey::generate().unwrap();
        let sealed = dek.seal(b"acct-1|email", b"secret").unwrap();
        assert!(matches!(dek.open(b"acct-2|email", &sealed), Err(SealError::Open)));
    }

    #[test]
    fn other_key_or_flipped_bit_does_not_open() {
        let dek = DataKey::generate().unwrap();
        let other = DataKey::generate().unwrap();
        let mut sealed = dek.seal(b"ctx", b"secret").unwrap();
        assert!(matches!(other.open(b"ctx", &sealed), Err(SealError::Open)));
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(matches!(dek.open(b"ctx", &sealed), Err(SealError::Open)));
        assert!(matches!(dek.open(b"ctx", &sealed[..10]), Err(SealError::Truncated)));
    }

    #[test]
    fn wrapped_key_is_bound_to_owner_and_kek() {
        let kek = Kek::new(1, [7u8; 32]);
        let dek = DataKey::generate().unwrap();
        let wrapped = kek.wrap("acct-1", &dek).unwrap();
        let unwrapped = kek.unwrap_key("acct-1", &wrapped).unwrap();
        let sealed = dek.seal(b"ctx", b"v").unwrap();
        assert_eq!(unwrapped.open(b"ctx", &sealed).unwrap(), b"v");
        assert!(kek.unwrap_key("acct-2", &wrapped).is_err());
        assert!(Kek::new(2, [7u8; 32]).unwrap_key("acct-1", &wrapped).is_err());
        assert!(Kek::new(1, [8u8; 32]).unwrap_key("acct-1", &wrapped).is_err());
    }

    #[test]
    fn nonces_never_repeat_within_a_key_and_differ_across_instances() {
        let dek = DataKey::generate().unwrap();
        let nonces: std::collections::HashSet<Vec<u8>> = (0..10_000)
            .map(|_| dek.seal(b"ctx", b"v").unwrap()[..NONCE_LEN].to_vec())
            .collect();
        assert_eq!(nonces.len(), 10_000);
        // The same key unwrapped twice (two requests) starts from different random bases.
        let kek = Kek::new(1, [3u8; 32]);
        let wrapped = kek.wrap("owner", &dek).unwrap();
        let a = kek.unwrap_key("owner", &wrapped).unwrap().seal(b"ctx", b"v").unwrap();
        let b = kek.unwrap_key("owner", &wrapped).unwrap().seal(b"ctx", b"v").unwrap();
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
    }

    #[test]
    fn debug_never_shows_key_bytes() {
        let kek = Kek::new(3, [0xAB; 32]);
        let shown = format!("{kek:?} {:?}", DataKey::generate().unwrap());
        assert!(shown.contains("redacted"));
        assert!(!shown.contains("171")); // 0xAB
        assert!(!shown.to_lowercase().contains("ab, ab"));
    }
}
