//! `infobank coins …`: the operator's side of the coin ledger.

use clap::Subcommand;
use infobank_coins::funding::{company_coins, fund_company};
use infobank_coins::ledger::check_books;
use infobank_web::Config;
use serde_json::json;

use crate::setup::{CliError, prepare};

#[derive(Subcommand)]
pub enum CoinsCommand {
    /// Credit a company's coin account (what it can promise as offer rewards).
    Fund {
        company_id: String,
        /// Whole coins, at least 1.
        amount: i64,
        /// Makes a retried command credit once (e.g. the invoice number); a fresh one by default.
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// A company's balance, escrow and latest reservations (JSON).
    Company { company_id: String },
    /// Check the whole ledger: every entry balances, every maintained balance equals its postings.
    Check,
}

pub fn run(command: CoinsCommand) -> Result<(), CliError> {
    let ready = prepare(Config::from_env()?)?;
    let mut conn = ready.pool.get().map_err(|e| CliError::Other(e.to_string()))?;
    let fail = |e: infobank_coins::CoinsError| CliError::Other(e.to_string());
    match command {
        CoinsCommand::Fund {
            company_id,
            amount,
            idempotency_key,
        } => {
            let key = idempotency_key.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
            let now = infobank_web::clock::now();
            let posted = fund_company(&mut conn, &company_id, amount, &key, "cli", now).map_err(fail)?;
            let coins = company_coins(&mut conn, &company_id, 1).map_err(fail)?;
            let out = json!({
                "entry_id": posted.entry().id,
                "company_id": company_id,
                "amount": amount,
                "idempotency_key": key,
                "replayed": posted.is_replay(),
                "balance": coins.balance,
                "audit_leaf_hash": infobank_audit::merkle::to_hex(&posted.entry().audit_leaf),
            });
            println!("{out:#}");
        }
        CoinsCommand::Company { company_id } => {
            let coins = company_coins(&mut conn, &company_id, 50).map_err(fail)?;
            println!("{:#}", json!(coins));
        }
        CoinsCommand::Check => {
            let books = check_books(&mut conn).map_err(fail)?;
            println!(
                "ledger balances: {} entries, {} postings, {} accounts",
                books.entries,
                books.postings,
                books.balances.len()
            );
        }
    }
    Ok(())
}
