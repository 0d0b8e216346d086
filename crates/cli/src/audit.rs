//! `infobank audit …`: print the signed tree head, verify proofs in the RFC 6962 vector format,
//! export the log, and verify a whole log (online with a regulator token, or offline on an
//! export) without trusting the bank: every leaf hash and the root are recomputed here and the
//! head's signature is checked against the published key; and reconcile the log with the tables
//! it speaks for.

use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use infobank_audit::merkle::{self, Hash};
use infobank_audit::verifier::{
    ConsistencyDoc, ConsistencyFile, EntriesPage, EntryDoc, HeadDoc, InclusionFile, Recomputed, key_from_jwks, unb64,
};
use infobank_web::Config;
use serde::Deserialize;

use crate::setup::{CliError, prepare};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Print the current signed tree head (JSON), signing a new one if the log grew.
    Sth,
    /// Verify an inclusion proof file; exit 0 valid, 1 invalid (reason on stderr).
    VerifyInclusion { file: PathBuf },
    /// Verify a consistency proof file; exit 0 valid, 1 invalid (reason on stderr).
    VerifyConsistency { file: PathBuf },
    /// Write every entry as JSON lines, and the signed tree head beside it, for offline checks.
    Export {
        #[arg(long)]
        out: PathBuf,
        /// Where to write the signed tree head (default: OUT with `.sth.json` appended).
        #[arg(long)]
        sth_out: Option<PathBuf>,
    },
    /// Check the log against the tables it speaks for, both ways: every disclosure, coin entry,
    /// consent, company, account and vault record row has its leaf, and every such leaf its row.
    /// Exit 0 consistent, 1 with the first mismatches named.
    Reconcile,
    /// Recompute every leaf hash and the root, and check the head's signature.
    Verify {
        /// A running infobank, e.g. https://bank.example (with --token).
        #[arg(long, conflicts_with_all = ["log", "sth"])]
        url: Option<String>,
        /// A regulator access token (or INFOBANK_TOKEN).
        #[arg(long, env = "INFOBANK_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// An export written by `audit export`.
        #[arg(long, requires = "sth")]
        log: Option<PathBuf>,
        /// The signed tree head of that export.
        #[arg(long, requires = "log")]
        sth: Option<PathBuf>,
        /// The bank's published JWKS (/.well-known/jwks.json), saved earlier; offline only.
        #[arg(long)]
        jwks: Option<PathBuf>,
        /// Without --jwks: check the signature with the key written inside the export. That
        /// proves only that the export is consistent with itself (whoever rewrites an export can
        /// sign it with a key of their own), not that the bank signed it.
        #[arg(long, conflicts_with = "jwks")]
        trust_embedded_key: bool,
    },
}

/// A failed check: the reason goes to stderr and the exit code is 1.
pub use infobank_audit::verifier::Invalid;

pub fn run(command: AuditCommand) -> Result<Result<(), Invalid>, CliError> {
    match command {
        AuditCommand::Sth => print_sth().map(Ok),
        AuditCommand::VerifyInclusion { file } => Ok(verify_inclusion_file(&file)),
        AuditCommand::VerifyConsistency { file } => Ok(verify_consistency_file(&file)),
        AuditCommand::Export { out, sth_out } => export(&out, sth_out).map(Ok),
        AuditCommand::Reconcile => reconcile(),
        AuditCommand::Verify {
            url: Some(url), token, ..
        } => {
            let token = token
                .ok_or_else(|| CliError::Other("--url needs --token or INFOBANK_TOKEN (a regulator token)".into()))?;
            Ok(verify_online(&url, &token))
        }
        AuditCommand::Verify {
            log: Some(log),
            sth: Some(sth),
            jwks,
            trust_embedded_key,
            ..
        } => Ok(verify_offline(&log, &sth, jwks.as_deref(), trust_embedded_key)),
        AuditCommand::Verify { .. } => Err(CliError::Other(
            "audit verify needs --url (and --token) or --log and --sth".into(),
        )),
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, Invalid> {
    let text = std::fs::read_to_string(path).map_err(|e| Invalid(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| Invalid(format!("{}: {e}", path.display())))
}

fn verify_inclusion_file(path: &Path) -> Result<(), Invalid> {
    let f: InclusionFile = read_json(path)?;
    f.check()?;
    println!("valid: leaf {} is in the tree of {} leaves", f.leaf_idx, f.tree_size);
    Ok(())
}

fn verify_consistency_file(path: &Path) -> Result<(), Invalid> {
    let f: ConsistencyFile = read_json(path)?;
    f.check()?;
    println!(
        "valid: the tree of {} leaves is a prefix of the tree of {} leaves",
        f.size1, f.size2
    );
    Ok(())
}

// ---- signed tree heads ----

fn print_sth() -> Result<(), CliError> {
    let ready = prepare(Config::from_env()?)?;
    let signer = ready.keys.log_signer()?;
    let mut conn = ready.pool.get().map_err(|e| CliError::Other(e.to_string()))?;
    // On request: a head for the tree as it is now (the once-a-second limit is for the server).
    let head = infobank_audit::sth::sign_current(&mut conn, &signer, infobank_web::clock::now())
        .map_err(|e| CliError::Other(e.to_string()))?;
    let doc = serde_json::to_string_pretty(&HeadDoc::new(&head, None)).map_err(|e| CliError::Other(e.to_string()))?;
    println!("{doc}");
    Ok(())
}

// ---- the log against the tables ----

fn reconcile() -> Result<Result<(), Invalid>, CliError> {
    let ready = prepare(Config::from_env()?)?;
    let mut conn = ready.pool.get().map_err(|e| CliError::Other(e.to_string()))?;
    let spinner = ProgressBar::new_spinner().with_message("reading the log and the tables");
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let outcome = infobank_audit::reconcile::reconcile(&mut conn).map_err(|e| CliError::Other(e.to_string()))?;
    spinner.finish_and_clear();
    let rows = outcome.rows_read();
    if outcome.is_consistent() {
        println!(
            "consistent: {} leaves against {}; every row has its leaf and every leaf its row",
            outcome.leaves, rows
        );
        return Ok(Ok(()));
    }
    for m in &outcome.mismatches {
        eprintln!("{} {}: {}", m.table, m.id, m.problem);
    }
    Ok(Err(Invalid(format!(
        "{} mismatches between the log ({} leaves) and the tables ({}){}",
        outcome.mismatch_count,
        outcome.leaves,
        rows,
        if outcome.mismatch_count > outcome.mismatches.len() as u64 {
            format!("; the first {} are named above", outcome.mismatches.len())
        } else {
            String::new()
        }
    ))))
}

// ---- whole-log verification ----

pub(crate) fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// Said when the signature was checked with the export's own key: the export then proves
/// nothing about who signed it.
const SELF_CONSISTENT_ONLY: &str = "WARNING: the signature was checked with the key inside the export, not the bank's published \
     key: this proves only that the export is consistent with itself (a rewritten export signed with any key passes); \
     pass --jwks with the bank's JWKS to know that the bank signed it";

fn verify_offline(log: &Path, sth: &Path, jwks: Option<&Path>, trust_embedded_key: bool) -> Result<(), Invalid> {
    let head: HeadDoc = read_json(sth)?;
    let public_key = match (jwks, &head.public_key) {
        (Some(path), _) => key_from_jwks(&read_json(path)?, &head.key_id)?,
        (None, Some(pk)) if trust_embedded_key => {
            eprintln!("{SELF_CONSISTENT_ONLY}");
            unb64("public_key", pk)?
        }
        (None, None) if trust_embedded_key => return Err(Invalid("the export holds no key: pass --jwks FILE".into())),
        (None, _) => {
            return Err(Invalid(
                "no key to check the signature against: pass --jwks FILE (the bank's /.well-known/jwks.json, saved \
                 earlier), or --trust-embedded-key to check only that the export is consistent with itself"
                    .into(),
            ));
        }
    };
    let root = head.check(&public_key)?;
    let file = std::fs::File::open(log).map_err(|e| Invalid(format!("cannot read {}: {e}", log.display())))?;
    let bar = progress(head.tree_size, "verifying");
    let mut recomputed = Recomputed::default();
    for (i, line) in BufReader::new(file)
        .lines()
        .enumerate()
        .take(usize::try_from(head.tree_size).unwrap_or(usize::MAX))
    {
        let line = line.map_err(|e| Invalid(format!("reading the log: {e}")))?;
        let entry: EntryDoc = serde_json::from_str(&line).map_err(|e| Invalid(format!("entry {i}: {e}")))?;
        recomputed.push(i as u64, &entry)?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    finish(&recomputed, &head, root)?;
    if jwks.is_none() {
        // Again after the progress bar, where it cannot be missed.
        eprintln!("{SELF_CONSISTENT_ONLY}");
    }
    Ok(())
}

/// The recomputed log against the signed head, and the line a regulator reads.
fn finish(recomputed: &Recomputed, head: &HeadDoc, root: Hash) -> Result<(), Invalid> {
    recomputed.matches(head, root)?;
    println!(
        "valid: {} entries, root {} signed by key {}",
        head.tree_size, head.root_hash, head.key_id
    );
    Ok(())
}

struct Client {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl Client {
    fn get<T: for<'de> Deserialize<'de>>(&self, path: &str, auth: bool) -> Result<T, Invalid> {
        let mut req = self.agent.get(&format!("{}{path}", self.base));
        if auth {
            req = req.set("Authorization", &format!("Bearer {}", self.token));
        }
        match req.call() {
            Ok(resp) => resp.into_json().map_err(|e| Invalid(format!("GET {path}: {e}"))),
            Err(ureq::Error::Status(code, resp)) => Err(Invalid(format!(
                "GET {path}: {code} {}",
                resp.into_string().unwrap_or_default()
            ))),
            Err(e) => Err(Invalid(format!("GET {path}: {e}"))),
        }
    }
}

fn verify_online(url: &str, token: &str) -> Result<(), Invalid> {
    let client = Client {
        base: url.trim_end_matches('/').to_owned(),
        token: token.to_owned(),
        agent: ureq::agent(),
    };
    let head: HeadDoc = client.get("/api/v1/audit/sth", false)?;
    let jwks: serde_json::Value = client.get("/.well-known/jwks.json", false)?;
    let root = head.check(&key_from_jwks(&jwks, &head.key_id)?)?;

    let bar = progress(head.tree_size, "downloading and verifying");
    let mut recomputed = Recomputed::default();
    let mut start = 0;
    while start < head.tree_size {
        let end = (start + 1000).min(head.tree_size);
        let page: EntriesPage = client.get(&format!("/api/v1/audit/entries?start={start}&end={end}"), true)?;
        if page.entries.len() as u64 != end - start {
            return Err(Invalid(format!(
                "asked for entries {start}..{end}, got {}",
                page.entries.len()
            )));
        }
        for (offset, entry) in page.entries.iter().enumerate() {
            recomputed.push(start + offset as u64, entry)?;
        }
        bar.inc(end - start);
        start = end;
    }
    bar.finish_and_clear();
    match finish(&recomputed, &head, root) {
        Ok(()) => Ok(()),
        Err(_) if head.tree_size > 0 => {
            let bad = first_bad_leaf(&client, &recomputed, &head, root)?;
            Err(Invalid(format!(
                "entry {bad}: it is not the leaf the signed head commits to (the root does not match)"
            )))
        }
        Err(e) => Err(e),
    }
}

/// The leaves hashed consistently but the root is wrong: some leaf *and* its recorded hash were
/// rewritten. The signed root still commits to the original leaves, so a prefix of our leaves is
/// genuine exactly when the server can prove it consistent with the signed head. Prefixes are
/// genuine up to the first rewritten leaf and never after, so a binary search finds it with
/// O(log n) proofs.
fn first_bad_leaf(client: &Client, recomputed: &Recomputed, head: &HeadDoc, root: Hash) -> Result<u64, Invalid> {
    let genuine_prefix = |size: u64| -> Result<bool, Invalid> {
        let Some(prefix_root) = recomputed.root(size) else {
            return Ok(false);
        };
        let doc: ConsistencyDoc = client.get(
            &format!("/api/v1/audit/proof/consistency?first={size}&second={}", head.tree_size),
            true,
        )?;
        let proof: Vec<Vec<u8>> = doc.proof.iter().map(|p| unb64("proof", p)).collect::<Result<_, _>>()?;
        Ok(merkle::verify_consistency(size, head.tree_size, &prefix_root, &root, &proof).is_ok())
    };
    // Invariant: prefix `lo` is genuine (0 trivially), prefix `hi` is not (the whole log).
    let (mut lo, mut hi) = (0, head.tree_size);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if genuine_prefix(mid)? { lo = mid } else { hi = mid }
    }
    Ok(lo)
}

// ---- export ----

fn export(out: &Path, sth_out: Option<PathBuf>) -> Result<(), CliError> {
    let ready = prepare(Config::from_env()?)?;
    let signer = ready.keys.log_signer()?;
    let mut conn = ready.pool.get().map_err(|e| CliError::Other(e.to_string()))?;
    let other = |e: &dyn std::fmt::Display| CliError::Other(e.to_string());
    let head =
        infobank_audit::sth::sign_current(&mut conn, &signer, infobank_web::clock::now()).map_err(|e| other(&e))?;
    let file = std::fs::File::create(out).map_err(|e| CliError::Other(format!("{}: {e}", out.display())))?;
    let mut writer = BufWriter::new(file);
    let bar = progress(head.tree_size, "exporting");
    infobank_audit::export::write_entries(&mut conn, head.tree_size, &mut writer, |n| bar.inc(n))
        .map_err(|e| other(&e))?;
    writer.flush().map_err(|e| other(&e))?;
    bar.finish_and_clear();
    let sth_path = sth_out.unwrap_or_else(|| PathBuf::from(format!("{}.sth.json", out.display())));
    let doc = serde_json::to_string_pretty(&HeadDoc::new(&head, Some(signer.public_key()))).map_err(|e| other(&e))?;
    std::fs::write(&sth_path, doc).map_err(|e| CliError::Other(format!("{}: {e}", sth_path.display())))?;
    println!(
        "exported {} entries to {} and the signed head to {}",
        head.tree_size,
        out.display(),
        sth_path.display()
    );
    Ok(())
}
