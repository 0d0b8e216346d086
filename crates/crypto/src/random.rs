//! Randomness from the operating system (ring's `SystemRandom`), never from a userspace PRNG.

use ring::rand::{SecureRandom, SystemRandom};

/// The OS refused to hand out random bytes; nothing secure can be done without them.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct RandomError;

pub fn fill(buf: &mut [u8]) -> Result<(), RandomError> {
    SystemRandom::new().fill(buf).map_err(|_| RandomError)
}

pub fn bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut out = [0u8; N];
    fill(&mut out)?;
    Ok(out)
}

/// A 256-bit random token, base64url without padding: session ids, CSRF tokens.
pub fn token_string() -> Result<String, RandomError> {
    use base64::Engine as _;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes::<32>()?))
}
