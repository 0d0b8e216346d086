//! The `infobank` binary.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a CLI talks on stdout and stderr

mod admin;
mod audit;
mod backup;
mod coins;
mod company;
mod demo;
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
        /// On an empty database, seed the demo bank first and print one sign-in per role (a
        /// database that holds data is served as it is).
        #[arg(long)]
        demo: bool,
        /// With --demo: how many citizens.
        #[arg(long, default_value_t = 200, requires = "demo", value_parser = clap::value_parser!(u16).range(1..=5000))]
        citizens: u16,
        /// With --demo: the seed everything drawn comes from.
        #[arg(long, default_value_t = 2026, requires = "demo")]
        seed: u64,
    },
    /// Seed a believable demo bank into an empty database (companies, offers, citizens, four
    /// months of consents and disclosures) and print one sign-in per role.
    Demo {
        /// How many citizens.
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u16).range(1..=5000))]
        citizens: u16,
        /// The seed everything drawn comes from: the same seed, the same bank.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
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
            demo,
            citizens,
            seed,
        } => {
            let demo = demo.then_some(demo::DemoOptions {
                citizens: usize::from(citizens),
                seed,
            });
            serve::run(listen, tls_cert, tls_key, demo)
        }
        Command::Demo { citizens, seed } => demo::run(demo::DemoOptions {
            citizens: usize::from(citizens),
            seed,
        }),
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
