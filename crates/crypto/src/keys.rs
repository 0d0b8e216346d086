//! Key material on disk. The first start creates the key directory (mode 0700) and every key file
//! (mode 0600) from the OS random number generator; later starts load them. Files:
//!
//! - `token-signing.ed25519.pk8`: Ed25519 key pair (PKCS#8) signing access tokens and receipts;
//! - `token-signing.previous.{kid}.pub`: the public halves of earlier token-signing keys, left by
//!   `infobank keys rotate-signing` (32 bytes, then the rotation's time as 8 bytes of big-endian
//!   Unix seconds). Only verification needs them (access tokens for a bounded time after the
//!   rotation, receipts held by citizens and companies), so their private halves are destroyed;
//! - `audit-log.ed25519.pk8`: Ed25519 key pair signing the audit log's tree heads;
//! - `kek.v{N}.key`: 32-byte key-encryption keys, one per version, the highest is current;
//! - `pseudonym.key`: 32-byte root secret for blind indexes and per-company pseudonyms.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use ring::signature::{Ed25519KeyPair, KeyPair as _};

use crate::envelope::Kek;
use crate::hashing::{BlindIndexKey, hex};

const SIGNING_FILE: &str = "token-signing.ed25519.pk8";
const LOG_SIGNING_FILE: &str = "audit-log.ed25519.pk8";
const PSEUDONYM_FILE: &str = "pseudonym.key";
const PREVIOUS_SIGNING_PREFIX: &str = "token-signing.previous.";
const PREVIOUS_SIGNING_SUFFIX: &str = ".pub";
const STAGED_PREFIX: &str = ".rotating-";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key directory {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("key file {path} is not a valid key: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("key file {path} is readable by other users (mode {mode:o}); run chmod 600 on it")]
    Permissions { path: PathBuf, mode: u32 },
    #[error(transparent)]
    Random(#[from] crate::random::RandomError),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An earlier token-signing key: its public half, and when a rotation replaced it (`None` for a
/// rotation that stopped before it finished, which recorded no time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousSigningKey {
    pub public_key: Vec<u8>,
    pub replaced_at: Option<DateTime<Utc>>,
}

/// All long-lived keys of one installation.
pub struct KeyRing {
    dir: PathBuf,
    signing_pkcs8: Vec<u8>,
    log_signing_pkcs8: Vec<u8>,
    signing_public: Vec<u8>,
    signing_key_id: String,
    /// Earlier token-signing keys (public halves), in key-id order; never the current key.
    previous_signing: Vec<PreviousSigningKey>,
    /// Versions found so far. New versions written by `infobank keys rotate` in another process
    /// are picked up from disk when first needed, so a running server follows a rotation.
    keks: RwLock<BTreeMap<u32, Arc<Kek>>>,
    pseudonym_secret: [u8; 32],
}

impl KeyRing {
    /// Loads the keys in `dir`, creating whatever is missing.
    pub fn load_or_create(dir: &Path) -> Result<Self, KeyError> {
        create_private_dir(dir)?;
        let signing_path = dir.join(SIGNING_FILE);
        let signing_pkcs8 = load_or_generate(&signing_path, generate_ed25519)?;
        let log_signing_path = dir.join(LOG_SIGNING_FILE);
        let log_signing_pkcs8 = load_or_generate(&log_signing_path, generate_ed25519)?;
        ed25519_public_key(&log_signing_path, &log_signing_pkcs8)?;
        let signing_public = ed25519_public_key(&signing_path, &signing_pkcs8)?;
        // A short, stable id derived from the public key: JWKS consumers pick keys by it.
        let signing_key_id = crate::signing::key_id_of(&signing_public);

        // A rotation interrupted before its new key was in place has already kept the current
        // key's public half: it is the current key, not an earlier one.
        let mut previous_signing = load_previous_signing_keys(dir)?;
        previous_signing.retain(|k| k.public_key != signing_public);

        let mut keks = load_keks(dir)?;
        if keks.is_empty() {
            let path = kek_path(dir, 1);
            let key = load_or_generate(&path, || crate::random::bytes::<32>().map(Vec::from))?;
            keks.insert(1, Kek::new(1, to_key32(&path, &key)?));
        }

        let pseudonym_path = dir.join(PSEUDONYM_FILE);
        let pseudonym_bytes = load_or_generate(&pseudonym_path, || crate::random::bytes::<32>().map(Vec::from))?;
        let pseudonym_secret = to_key32(&pseudonym_path, &pseudonym_bytes)?;

        let keks = RwLock::new(keks.into_iter().map(|(v, k)| (v, Arc::new(k))).collect());
        Ok(Self {
            dir: dir.to_path_buf(),
            signing_pkcs8,
            log_signing_pkcs8,
            signing_public,
            signing_key_id,
            previous_signing,
            keks,
            pseudonym_secret,
        })
    }

    /// Loads the keys in `dir`, which must already hold a key set: for the commands that work on
    /// an installation's keys, where a wrong `INFOBANK_KEY_DIR` must fail rather than create one.
    pub fn load_existing(dir: &Path) -> Result<Self, KeyError> {
        let missing = [SIGNING_FILE, LOG_SIGNING_FILE, PSEUDONYM_FILE]
            .into_iter()
            .map(|name| dir.join(name))
            .find(|path| !path.is_file());
        let keks_missing = !dir.is_dir() || load_keks(dir)?.is_empty();
        if let Some(path) = missing.or_else(|| keks_missing.then(|| kek_path(dir, 1))) {
            return Err(KeyError::Invalid {
                path,
                reason: "missing: this directory holds no key set (is it the server's key directory?)".into(),
            });
        }
        Self::load_or_create(dir)
    }

    /// Replaces the token-signing key with a new one and keeps the old public half, so that what
    /// it signed still verifies and the JWKS carries both. Returns the new key id. Running
    /// servers keep signing with the key they loaded until they restart (docs/operations.md).
    /// Safe to run again after an interruption: each step either happened whole or not at all.
    pub fn rotate_signing_key(dir: &Path, now: DateTime<Utc>) -> Result<String, KeyError> {
        let current_path = dir.join(SIGNING_FILE);
        let current = read_private(&current_path)?.ok_or_else(|| KeyError::Invalid {
            path: current_path.clone(),
            reason: "no token-signing key to rotate (is this the server's key directory?)".into(),
        })?;
        let public = ed25519_public_key(&current_path, &current)?;
        remove_staged_keys(dir)?;
        let public = public.as_slice();
        let previous_path = previous_signing_path(dir, &crate::signing::key_id_of(public));
        match write_private(&previous_path, public) {
            Err(KeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => {}
            other => other?,
        }
        // The new key is written whole under a temporary name, then renamed over the old one:
        // a crash leaves either the old key or the new one, never a torn file.
        let fresh = generate_ed25519()?;
        let staged = dir.join(format!("{STAGED_PREFIX}{}", hex(&crate::random::bytes::<8>()?)));
        write_private(&staged, &fresh)?;
        fs::rename(&staged, &current_path).map_err(io_err(&current_path))?;
        // Only now is the old key replaced: its file records when, so that it verifies access
        // tokens for a bounded time from here (receipts for as long as it stays published).
        let mut record = public.to_vec();
        record.extend_from_slice(&now.timestamp().to_be_bytes());
        let staged = dir.join(format!("{STAGED_PREFIX}{}", hex(&crate::random::bytes::<8>()?)));
        write_private(&staged, &record)?;
        fs::rename(&staged, &previous_path).map_err(io_err(&previous_path))?;
        Ok(crate::signing::key_id_of(&ed25519_public_key(&current_path, &fresh)?))
    }

    /// Removes an earlier token-signing key from the key set: tokens and receipts it signed no
    /// longer verify. For a key that may have leaked, or one whose receipts nobody needs.
    pub fn retire_signing_key(dir: &Path, key_id: &str) -> Result<(), KeyError> {
        let well_formed = key_id.len() == 16 && key_id.bytes().all(|b| b.is_ascii_hexdigit());
        let path = previous_signing_path(dir, key_id);
        let current_path = dir.join(SIGNING_FILE);
        let is_current = match read_private(&current_path)? {
            Some(current) => crate::signing::key_id_of(&ed25519_public_key(&current_path, &current)?) == key_id,
            None => false,
        };
        if !well_formed || is_current || !path.is_file() {
            return Err(KeyError::Invalid {
                path,
                reason: format!("{key_id:?} is not an earlier token-signing key id"),
            });
        }
        fs::remove_file(&path).map_err(io_err(&path))
    }

    /// The earlier token-signing keys still published.
    pub fn previous_signing_keys(&self) -> &[PreviousSigningKey] {
        &self.previous_signing
    }

    pub fn signing_pkcs8(&self) -> &[u8] {
        &self.signing_pkcs8
    }

    /// The signer of the audit log's tree heads.
    pub fn log_signer(&self) -> Result<crate::Ed25519Signer, KeyError> {
        crate::Ed25519Signer::from_pkcs8(&self.log_signing_pkcs8).map_err(|reason| KeyError::Invalid {
            path: PathBuf::from(LOG_SIGNING_FILE),
            reason,
        })
    }

    pub fn signing_public_key(&self) -> &[u8] {
        &self.signing_public
    }

    pub fn signing_key_id(&self) -> &str {
        &self.signing_key_id
    }

    fn known(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<u32, Arc<Kek>>> {
        // A poisoned lock only means another thread panicked while inserting a key; the map
        // itself is always whole, so keep using it.
        self.keks.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Loads `kek.v{version}.key` if it exists and is not loaded yet.
    fn load_version(&self, version: u32) -> Option<Arc<Kek>> {
        let path = kek_path(&self.dir, version);
        let bytes = read_private(&path).ok()??;
        let kek = Arc::new(Kek::new(version, to_key32(&path, &bytes).ok()?));
        let mut keks = self.keks.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        Some(Arc::clone(keks.entry(version).or_insert(kek)))
    }

    /// The KEK that wraps new data keys: the highest version, including one that a rotation in
    /// another process has just created.
    pub fn current_kek(&self) -> Option<Arc<Kek>> {
        let highest = self.known().keys().next_back().copied().unwrap_or(0);
        let mut current = self.known().get(&highest).cloned();
        let mut next = highest + 1;
        while let Some(newer) = self.load_version(next) {
            current = Some(newer);
            next += 1;
        }
        current
    }

    pub fn kek(&self, version: u32) -> Option<Arc<Kek>> {
        let known = self.known().get(&version).cloned();
        known.or_else(|| self.load_version(version))
    }

    /// The versions present, lowest first.
    pub fn kek_versions(&self) -> Vec<u32> {
        let _ = self.current_kek();
        self.known().keys().copied().collect()
    }

    /// Creates KEK version n+1 on disk and returns its version.
    pub fn create_next_kek(&self) -> Result<u32, KeyError> {
        let next = self.current_kek().map_or(1, |k| k.version() + 1);
        let path = kek_path(&self.dir, next);
        let key = load_or_generate(&path, || crate::random::bytes::<32>().map(Vec::from))?;
        let kek = Arc::new(Kek::new(next, to_key32(&path, &key)?));
        self.keks
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(next, kek);
        Ok(next)
    }

    /// Removes a KEK version's file and forgets it. The caller makes sure nothing is wrapped
    /// with it any more; servers running elsewhere forget it at their next restart.
    pub fn retire_kek(&self, version: u32) -> Result<(), KeyError> {
        let path = kek_path(&self.dir, version);
        fs::remove_file(&path).map_err(io_err(&path))?;
        self.keks
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&version);
        Ok(())
    }

    /// A purpose-bound keyed hash derived from the pseudonym secret.
    pub fn blind_index(&self, purpose: &str) -> BlindIndexKey {
        BlindIndexKey::derive(&self.pseudonym_secret, purpose)
    }
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("signing_key_id", &self.signing_key_id)
            .field("kek_versions", &self.known().keys().collect::<Vec<_>>())
            .field("secrets", &"<redacted>")
            .finish()
    }
}

fn generate_ed25519() -> Result<Vec<u8>, crate::random::RandomError> {
    Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
        .map(|doc| doc.as_ref().to_vec())
        .map_err(|_| crate::random::RandomError)
}

/// The public half of a PKCS#8 Ed25519 key pair read from `path`.
fn ed25519_public_key(path: &Path, pkcs8: &[u8]) -> Result<Vec<u8>, KeyError> {
    Ed25519KeyPair::from_pkcs8(pkcs8)
        .map(|pair| pair.public_key().as_ref().to_vec())
        .map_err(|e| KeyError::Invalid {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

/// A new signing key written by a rotation that stopped before renaming it into place.
fn remove_staged_keys(dir: &Path) -> Result<(), KeyError> {
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        if entry.file_name().to_string_lossy().starts_with(STAGED_PREFIX) {
            fs::remove_file(entry.path()).map_err(io_err(&entry.path()))?;
        }
    }
    Ok(())
}

fn previous_signing_path(dir: &Path, key_id: &str) -> PathBuf {
    dir.join(format!("{PREVIOUS_SIGNING_PREFIX}{key_id}{PREVIOUS_SIGNING_SUFFIX}"))
}

fn load_previous_signing_keys(dir: &Path) -> Result<Vec<PreviousSigningKey>, KeyError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(PREVIOUS_SIGNING_PREFIX) && name.ends_with(PREVIOUS_SIGNING_SUFFIX) {
            names.push(name);
        }
    }
    names.sort();
    let mut keys = Vec::new();
    for name in names {
        let path = dir.join(&name);
        let Some(bytes) = read_private(&path)? else {
            continue;
        };
        // 32 bytes of key, then (once the rotation finished) 8 of its time.
        let (key, time) = bytes.split_at(bytes.len().min(32));
        let key = to_key32(&path, key)?;
        let replaced_at = match <[u8; 8]>::try_from(time) {
            Ok(seconds) => {
                Some(
                    DateTime::from_timestamp(i64::from_be_bytes(seconds), 0).ok_or_else(|| KeyError::Invalid {
                        path: path.clone(),
                        reason: "the rotation time is out of range".into(),
                    })?,
                )
            }
            Err(_) if time.is_empty() => None,
            Err(_) => {
                return Err(KeyError::Invalid {
                    path,
                    reason: format!("expected 32 or 40 bytes, found {}", bytes.len()),
                });
            }
        };
        // The file is named after the key it holds: a swapped file is refused.
        if path != previous_signing_path(dir, &crate::signing::key_id_of(&key)) {
            return Err(KeyError::Invalid {
                path,
                reason: "the key does not match the key id in its file name".into(),
            });
        }
        keys.push(PreviousSigningKey {
            public_key: key.to_vec(),
            replaced_at,
        });
    }
    Ok(keys)
}

fn kek_path(dir: &Path, version: u32) -> PathBuf {
    dir.join(format!("kek.v{version}.key"))
}

fn load_keks(dir: &Path) -> Result<BTreeMap<u32, Kek>, KeyError> {
    let mut keks = BTreeMap::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(version) = name
            .strip_prefix("kek.v")
            .and_then(|rest| rest.strip_suffix(".key"))
            .and_then(|v| v.parse::<u32>().ok())
        else {
            continue;
        };
        let path = entry.path();
        if let Some(bytes) = read_private(&path)? {
            keks.insert(version, Kek::new(version, to_key32(&path, &bytes)?));
        }
    }
    Ok(keks)
}

fn to_key32(path: &Path, bytes: &[u8]) -> Result<[u8; 32], KeyError> {
    bytes.try_into().map_err(|_| KeyError::Invalid {
        path: path.to_path_buf(),
        reason: format!("expected 32 bytes, found {}", bytes.len()),
    })
}

/// Creates the key directory private to the service user (0700). An existing directory is left
/// as the operator set it up, e.g. a read-only Kubernetes Secret mount: each key file's own mode
/// is still checked when it is read.
fn create_private_dir(dir: &Path) -> Result<(), KeyError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err(dir))?;
    }
    Ok(())
}

/// Reads a key file, refusing one that group or others can read.
fn read_private(path: &Path) -> Result<Option<Vec<u8>>, KeyError> {
    match fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path)(e)),
        #[cfg(unix)]
        Ok(meta) => {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError::Permissions {
                    path: path.to_path_buf(),
                    mode,
                });
            }
        }
        #[cfg(not(unix))]
        Ok(_) => {}
    }
    fs::read(path).map(Some).map_err(io_err(path))
}

/// Reads the key at `path`, or generates and publishes one. Publishing is atomic (written in full
/// to a private temporary file, then hard-linked into place, which fails if the name exists), so
/// two processes starting at once on an empty directory end up with the same key.
fn load_or_generate(
    path: &Path,
    generate: impl FnOnce() -> Result<Vec<u8>, crate::random::RandomError>,
) -> Result<Vec<u8>, KeyError> {
    if let Some(bytes) = read_private(path)? {
        return Ok(bytes);
    }
    let bytes = generate()?;
    match write_private(path, &bytes) {
        Ok(()) => Ok(bytes),
        Err(KeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => read_private(path)?
            .ok_or_else(|| KeyError::Invalid {
                path: path.to_path_buf(),
                reason: "vanished while being created".into(),
            }),
        Err(e) => Err(e),
    }
}

/// Writes a new key file with mode 0600 from the first byte on and publishes it atomically;
/// never overwrites an existing key.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let suffix = hex(&crate::random::bytes::<8>()?);
    let tmp = dir.join(format!(".tmp-{suffix}"));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let written = options
        .open(&tmp)
        .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
        .and_then(|()| fs::hard_link(&tmp, path));
    let _ = fs::remove_file(&tmp);
    written.map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn load_existing_never_creates_a_key_set() {
        let tmp = tempfile::tempdir().unwrap();
        let empty = tmp.path().join("empty");
        assert!(KeyRing::load_existing(&empty).is_err());
        assert!(!empty.exists(), "nothing was created");
        let dir = tmp.path().join("keys");
        let created = KeyRing::load_or_create(&dir).unwrap();
        let loaded = KeyRing::load_existing(&dir).unwrap();
        assert_eq!(loaded.signing_key_id(), created.signing_key_id());
        fs::remove_file(kek_path(&dir, 1)).unwrap();
        assert!(
            KeyRing::load_existing(&dir).is_err(),
            "a key set without a KEK is not whole"
        );
        assert!(!kek_path(&dir, 1).exists());
    }

    /// A directory the operator provides (a Kubernetes Secret mount is read-only and not 0700) is
    /// used as it is: its mode is not touched, and its key files load.
    #[test]
    fn an_existing_key_directory_is_used_as_set_up() {
        let tmp = tempfile::tempdir().unwrap();
        let first = KeyRing::load_or_create(tmp.path()).unwrap();
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let again = KeyRing::load_or_create(tmp.path()).unwrap();
        assert_eq!(again.signing_key_id(), first.signing_key_id());
        let mode = fs::metadata(tmp.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755, "left as the operator set it up");
        // A new directory is created private.
        let fresh = tmp.path().join("new-keys");
        KeyRing::load_or_create(&fresh).unwrap();
        assert_eq!(fs::metadata(&fresh).unwrap().permissions().mode() & 0o777, 0o700);
    }

    #[test]
    fn first_start_creates_private_files_and_second_start_loads_them() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("keys");
        let first = KeyRing::load_or_create(&dir).unwrap();
        for name in [SIGNING_FILE, LOG_SIGNING_FILE, "kek.v1.key", PSEUDONYM_FILE] {
            let mode = fs::metadata(dir.join(name)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{name}");
        }
        assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);

        let second = KeyRing::load_or_create(&dir).unwrap();
        assert_eq!(first.signing_public_key(), second.signing_public_key());
        assert_eq!(first.signing_key_id(), second.signing_key_id());
        assert_eq!(
            first.blind_index("email").index("a@b.jp"),
            second.blind_index("email").index("a@b.jp")
        );
        assert_eq!(second.current_kek().unwrap().version(), 1);
    }

    #[test]
    fn highest_kek_version_is_current() {
        let tmp = tempfile::tempdir().unwrap();
        KeyRing::load_or_create(tmp.path()).unwrap();
        write_private(&kek_path(tmp.path(), 2), &[9u8; 32]).unwrap();
        let ring = KeyRing::load_or_create(tmp.path()).unwrap();
        assert_eq!(ring.current_kek().unwrap().version(), 2);
        assert!(ring.kek(1).is_some());
    }

    #[test]
    fn a_running_key_ring_follows_a_rotation_made_elsewhere() {
        let tmp = tempfile::tempdir().unwrap();
        let server = KeyRing::load_or_create(tmp.path()).unwrap();
        let operator = KeyRing::load_or_create(tmp.path()).unwrap();
        assert_eq!(operator.create_next_kek().unwrap(), 2);
        assert_eq!(
            server.current_kek().unwrap().version(),
            2,
            "the new version is found on disk"
        );
        assert!(server.kek(2).is_some());
        assert_eq!(server.kek_versions(), vec![1, 2]);
        operator.retire_kek(1).unwrap();
        assert!(operator.kek(1).is_none());
        assert!(!tmp.path().join("kek.v1.key").exists());
        assert!(server.kek(3).is_none());
    }

    #[test]
    fn refuses_world_readable_key_and_truncated_key() {
        let tmp = tempfile::tempdir().unwrap();
        KeyRing::load_or_create(tmp.path()).unwrap();
        let p = tmp.path().join(PSEUDONYM_FILE);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            KeyRing::load_or_create(tmp.path()),
            Err(KeyError::Permissions { .. })
        ));
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&p, b"short").unwrap();
        assert!(matches!(
            KeyRing::load_or_create(tmp.path()),
            Err(KeyError::Invalid { .. })
        ));
    }

    #[test]
    fn processes_starting_together_agree_on_the_keys() {
        let tmp = tempfile::tempdir().unwrap();
        let rings: Vec<KeyRing> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| KeyRing::load_or_create(tmp.path()).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for ring in &rings[1..] {
            assert_eq!(ring.signing_public_key(), rings[0].signing_public_key());
            assert_eq!(ring.blind_index("p").index("x"), rings[0].blind_index("p").index("x"));
        }
        let leftovers: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn debug_output_has_no_secret_material() {
        let tmp = tempfile::tempdir().unwrap();
        let ring = KeyRing::load_or_create(tmp.path()).unwrap();
        let shown = format!("{ring:?}");
        assert!(shown.contains("<redacted>"));
        let secret = fs::read(tmp.path().join(PSEUDONYM_FILE)).unwrap();
        assert!(!shown.contains(&hex(&secret)));
        assert!(!shown.contains(&format!("{:?}", &secret[..4])));
    }
}
