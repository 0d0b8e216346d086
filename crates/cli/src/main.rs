//! The `infobank` binary.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a CLI talks on stdout and stderr

mod admin;
mod audit;
mod backup;
mod coins;
mod company;
mod keys;
mod serve;
mod setup;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "infobank", version, about = "infobank: a consent-based information bank")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database, then serve the API and the portal.
    Serve {
        /// Address to listen on (overrides INFOBANK_LISTEN).
        #[arg(long)]
        listen: Option<String>,
        /// Serve HTTPS with this PEM certificate chain (with --tls-key; overrides INFOBANK_TLS_CERT).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<std::path::PathBuf>,
        /// The PEM private key of --tls-cert (overrides INFOBANK_TLS_KEY).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<std::path::PathBuf>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Copy the SQLite database, consistently, while the server runs (keys are backed up apart).
    Backup {
        /// The new file to write.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Manage staff accounts.
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Keys: rotate and retire key-encryption keys and the token-signing key.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Partner companies: list, approve, reject, suspend, revoke (with reasons).
    Company {
        #[command(subcommand)]
        command: company::CompanyCommand,
    },
    /// Offers: the ethics review queue, approve, reject.
    Offer {
        #[command(subcommand)]
        command: company::OfferCommand,
    },
    /// The coin ledger: fund a company, show its coins, check the books.
    Coins {
        #[command(subcommand)]
        command: coins::CoinsCommand,
    },
    /// The tamper-evident audit log: signed heads, proofs, export, verification.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    setup::init_tracing();
    let result = match cli.command {
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
        } => serve::run(listen, tls_cert, tls_key),
        Command::Migrate => setup::migrate_only(),
        Command::Backup { out } => backup::run(out),
        Command::Admin { command } => admin::run(command),
        Command::Keys { command } => keys::run(command),
        Command::Coins { command } => coins::run(command),
        Command::Company { command } => company::run_company(command),
        Command::Offer { command } => company::run_offer(command),
        Command::Audit { command } => match audit::run(command) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(audit::Invalid(reason))) => {
                eprintln!("invalid: {reason}");
                return ExitCode::FAILURE;
            }
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
