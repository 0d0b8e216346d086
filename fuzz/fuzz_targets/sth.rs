//! Signed tree heads, `infobank_audit::sth`: the 64 signed bytes, signature checks and timestamps.
//!
//! - `signed_bytes` is the documented layout (prefix, big-endian size and time, root) and decodes
//!   back to the same head, so no two heads share signed bytes;
//! - `SignedTreeHead::verify` with any public key and signature bytes (any length) returns
//!   true/false, never panics; a head signed with a real key verifies, and changing its size,
//!   time, root or signature, or checking with another key, makes it fail;
//! - `timestamp()` never panics; when it is `Some`, it is the same millisecond, and (for years the
//!   RFC 3339 form can carry) the millisecond RFC 3339 text the API serves parses back to it, as
//!   `audit verify --url` needs to rebuild the signed bytes.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use chrono::SecondsFormat;
use infobank_audit::sth::{STH_PREFIX, SignedTreeHead, signed_bytes};
use infobank_crypto::Ed25519Signer;
use infobank_crypto::signing::key_id_of;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    tree_size: u64,
    timestamp_ms: u64,
    root: [u8; 32],
    signature: Vec<u8>,
    public_key: Vec<u8>,
    key_id: String,
    tamper: u8,
}

/// 9999-12-31T23:59:59.999Z: the last instant RFC 3339 can write with a four-digit year.
const LAST_RFC3339_MS: u64 = 253_402_300_799_999;

fn signer() -> &'static Ed25519Signer {
    static SIGNER: OnceLock<Ed25519Signer> = OnceLock::new();
    SIGNER.get_or_init(|| {
        let pkcs8 =
            ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).expect("a key pair");
        Ed25519Signer::from_pkcs8(pkcs8.as_ref()).expect("ring's own PKCS#8")
    })
}

fuzz_target!(|input: Input| {
    let bytes = signed_bytes(input.tree_size, input.timestamp_ms, &input.root);
    assert_eq!(&bytes[..16], STH_PREFIX);
    let size = u64::from_be_bytes(bytes[16..24].try_into().expect("8 bytes"));
    let time = u64::from_be_bytes(bytes[24..32].try_into().expect("8 bytes"));
    assert_eq!(
        (size, time, &bytes[32..]),
        (input.tree_size, input.timestamp_ms, &input.root[..])
    );

    let mut head = SignedTreeHead {
        tree_size: input.tree_size,
        root_hash: input.root,
        timestamp_ms: input.timestamp_ms,
        signature: input.signature,
        key_id: input.key_id,
    };
    let _ = head.verify(&input.public_key);

    if let Some(t) = head.timestamp() {
        assert_eq!(u64::try_from(t.timestamp_millis()), Ok(head.timestamp_ms));
        if head.timestamp_ms <= LAST_RFC3339_MS {
            let served = t.to_rfc3339_opts(SecondsFormat::Millis, true);
            let read = chrono::DateTime::parse_from_rfc3339(&served).expect("the served timestamp parses");
            assert_eq!(
                u64::try_from(read.timestamp_millis()),
                Ok(head.timestamp_ms),
                "{served}"
            );
        }
    } else {
        assert!(i64::try_from(head.timestamp_ms).is_err() || head.timestamp_ms > LAST_RFC3339_MS);
    }

    let signer = signer();
    assert_eq!(key_id_of(signer.public_key()), signer.key_id());
    head.signature = signer.sign(&bytes);
    head.key_id = signer.key_id().to_owned();
    assert!(head.verify(signer.public_key()), "a genuine head does not verify");
    let mut other_key = signer.public_key().to_vec();
    match input.tamper % 6 {
        0 => head.tree_size ^= 1 << (input.tamper / 6 % 64),
        1 => head.timestamp_ms ^= 1 << (input.tamper / 6 % 64),
        2 => head.root_hash[usize::from(input.tamper / 6 % 32)] ^= 1,
        3 => head.signature[usize::from(input.tamper / 6 % 64)] ^= 1,
        4 => head.signature.truncate(usize::from(input.tamper / 6 % 64)),
        _ => other_key[usize::from(input.tamper / 6 % 32)] ^= 1,
    }
    assert!(
        !head.verify(&other_key),
        "a tampered head verifies (tamper {})",
        input.tamper
    );
});
