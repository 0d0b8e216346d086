//! `infobank keys …`: key-encryption key rotation and retirement, and token-signing key rotation.

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use infobank_accounts::rotation::{keys_per_version, keys_to_rewrap, rewrap_batch};
use infobank_crypto::KeyRing;
use infobank_web::Config;

use crate::setup::{CliError, open_existing, require_migrated};

#[derive(Subcommand)]
pub enum KeysCommand {
    #[command(flatten)]
    Kek(KekCommand),
    /// Replace the token-signing key (access tokens, consent receipts). The old public key stays
    /// in the JWKS so that what it signed still verifies; restart the servers to sign with the new one.
    RotateSigning,
    /// Remove an earlier token-signing key from the JWKS: tokens and receipts it signed stop verifying.
    RetireSigning { key_id: String },
}

/// The key-encryption keys, which wrap every data key in the database.
#[derive(Subcommand)]
pub enum KekCommand {
    /// Create a new KEK version and re-wrap every data key under it (or finish an interrupted
    /// rotation). Safe while servers are running; safe to interrupt and run again.
    Rotate {
        /// Data keys re-wrapped per transaction.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(i64).range(1..=100_000))]
        batch_size: i64,
        /// Only create the next KEK version, re-wrapping nothing: for nodes whose key directory
        /// is distributed (a Kubernetes Secret), which must all hold the new KEK before any data
        /// key is wrapped with it. Then `keys rotate --finish` re-wraps under it.
        #[arg(long, conflicts_with = "finish")]
        stage: bool,
        /// Only re-wrap under the current (staged) version; never create one, so that no data key
        /// is ever wrapped with a KEK the nodes do not have.
        #[arg(long)]
        finish: bool,
    },
    /// Delete an old KEK version once no data key is wrapped with it.
    Retire { version: u32 },
    /// Show the KEK versions and how many data keys each wraps.
    Status,
}

fn other(e: impl std::fmt::Display) -> CliError {
    CliError::Other(e.to_string())
}

pub fn run(command: KeysCommand) -> Result<(), CliError> {
    let config = Config::from_env()?;
    // The signing key lives in the key directory alone; no database is needed to rotate it.
    match command {
        KeysCommand::Kek(command) => run_kek(config, command),
        KeysCommand::RotateSigning => {
            // Never creates a key set: a wrong INFOBANK_KEY_DIR must fail, not rotate a new one.
            let key_id = KeyRing::rotate_signing_key(&config.key_dir, infobank_web::clock::now()).map_err(other)?;
            println!(
                "new token-signing key {key_id} in {}; the previous key stays in the JWKS (its access tokens verify for another 60 minutes)",
                config.key_dir.display()
            );
            println!("restart every server to sign with it (docs/operations.md, signing-key rotation)");
            Ok(())
        }
        KeysCommand::RetireSigning { key_id } => {
            KeyRing::retire_signing_key(&config.key_dir, &key_id).map_err(other)?;
            println!("retired token-signing key {key_id}; restart every server to stop publishing it");
            Ok(())
        }
    }
}

fn run_kek(config: Config, command: KekCommand) -> Result<(), CliError> {
    // Never creates a key set or a database: a wrong directory must fail, not rotate a new one.
    let ready = open_existing(config)?;
    require_migrated(&ready)?;
    let keys = &ready.keys;
    let mut conn = ready.pool.get().map_err(other)?;
    match command {
        KekCommand::Status => {
            let usage = keys_per_version(&mut conn).map_err(other)?;
            for version in keys.kek_versions() {
                let n = usage.iter().find(|(v, _)| *v == version).map_or(0, |(_, n)| *n);
                println!("kek v{version}: {n} data keys");
            }
            Ok(())
        }
        KekCommand::Rotate {
            batch_size,
            stage,
            finish,
        } => {
            let current = keys
                .current_kek()
                .map(|k| k.version())
                .ok_or_else(|| other("no key-encryption key"))?;
            let unfinished = keys_to_rewrap(&mut conn, current).map_err(other)? > 0;
            if stage {
                if unfinished {
                    return Err(other(format!(
                        "kek v{current} is staged or half-way: run `infobank keys rotate --finish` first"
                    )));
                }
                let next = keys.create_next_kek().map_err(other)?;
                println!(
                    "created kek v{next}; give every node a key directory with it, then run `infobank keys rotate --finish`"
                );
                return Ok(());
            }
            // An unfinished rotation is finished first rather than starting another.
            let target = if unfinished || finish {
                println!("finishing the rotation to kek v{current}");
                current
            } else {
                let next = keys.create_next_kek().map_err(other)?;
                println!("created kek v{next}");
                next
            };
            let total = keys_to_rewrap(&mut conn, target).map_err(other)?;
            let bar = ProgressBar::new(u64::try_from(total).unwrap_or(0));
            if let Ok(style) =
                ProgressStyle::with_template("re-wrapping data keys [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            let mut done = 0u64;
            loop {
                let n = rewrap_batch(&mut conn, keys, target, batch_size).map_err(other)?;
                if n == 0 {
                    break;
                }
                done += n as u64;
                bar.inc(n as u64);
            }
            bar.finish_and_clear();
            println!(
                "re-wrapped {done} data keys under kek v{target}; older versions can now be retired with `infobank keys retire VERSION`"
            );
            Ok(())
        }
        KekCommand::Retire { version } => {
            let current = keys
                .current_kek()
                .map(|k| k.version())
                .ok_or_else(|| other("no key-encryption key"))?;
            if version >= current {
                return Err(other(format!("kek v{version} is the current key; rotate first")));
            }
            if keys.kek(version).is_none() {
                return Err(other(format!("there is no kek v{version}")));
            }
            let in_use = keys_per_version(&mut conn)
                .map_err(other)?
                .into_iter()
                .find(|(v, _)| *v == version)
                .map_or(0, |(_, n)| n);
            if in_use > 0 {
                return Err(other(format!(
                    "{in_use} data keys are still wrapped with kek v{version}; run `infobank keys rotate` to finish"
                )));
            }
            keys.retire_kek(version).map_err(other)?;
            println!("retired kek v{version}; restart running servers so they forget it too");
            Ok(())
        }
    }
}
