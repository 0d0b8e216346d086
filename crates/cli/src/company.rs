//! `infobank company …` and `infobank offer …`: the operator's vetting from the command line.
//! Decisions are recorded with the actor `cli` (and appear in the audit log like portal ones).

use clap::Subcommand;
use infobank_consent::companies::{self, CompanyStatus};
use infobank_consent::offers;
use infobank_web::Config;
use serde_json::json;

use crate::setup::{CliError, prepare};

#[derive(Subcommand)]
pub enum CompanyCommand {
    /// Every company with its status (JSON lines).
    List {
        /// Only this status: applied, approved, rejected, suspended, revoked.
        #[arg(long)]
        status: Option<String>,
    },
    /// Approve an applied company, or reinstate a suspended one.
    Approve {
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Reject an application.
    Reject {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Suspend an approved company: every consent it holds stops working at once.
    Suspend {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Revoke a company for good.
    Revoke {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Issue new client credentials, whatever the company's status (after a leak): the old secret,
    /// the access tokens and the company-portal sessions issued with it stop working at once.
    /// Prints `{client_id, client_secret}`; hand the secret to the company out of band.
    ResetSecret { id: String },
}

#[derive(Subcommand)]
pub enum OfferCommand {
    /// Offers waiting for the ethics review (JSON lines).
    List,
    Approve {
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
    Reject {
        id: String,
        #[arg(long)]
        reason: String,
    },
}

fn fail(e: infobank_consent::ConsentError) -> CliError {
    CliError::Other(e.to_string())
}

pub fn run_company(command: CompanyCommand) -> Result<(), CliError> {
    let ready = prepare(Config::from_env()?)?;
    let mut conn = ready.pool.get().map_err(|e| CliError::Other(e.to_string()))?;
    let now = infobank_web::clock::now();
    let (id, to, reason) = match command {
        CompanyCommand::List { status } => {
            let status = status
                .map(|s| CompanyStatus::parse(&s).ok_or_else(|| CliError::Other(format!("unknown status {s}"))))
                .transpose()?;
            let mut after: Option<String> = None;
            loop {
                let page = companies::list(&mut conn, status, after.as_deref(), 200).map_err(fail)?;
                for c in &page {
                    println!("{}", json!(c));
                }
                match page.last() {
                    Some(last) if page.len() == 200 => after = Some(last.id.clone()),
                    _ => break,
                }
            }
            return Ok(());
        }
        CompanyCommand::Approve { id, reason } => (id, CompanyStatus::Approved, reason),
        CompanyCommand::Reject { id, reason } => (id, CompanyStatus::Rejected, Some(reason)),
        CompanyCommand::Suspend { id, reason } => (id, CompanyStatus::Suspended, Some(reason)),
        CompanyCommand::Revoke { id, reason } => (id, CompanyStatus::Revoked, Some(reason)),
        CompanyCommand::ResetSecret { id } => {
            let creds = companies::reset_secret(&mut conn, &id, "cli", now).map_err(fail)?;
            println!(
                "{}",
                json!({"client_id": creds.client_id, "client_secret": creds.client_secret})
            );
            return Ok(());
        }
    };
    let company = companies::decide(&mut conn, &id, to, reason.as_deref(), "cli", now).map_err(fail)?;
    println!("company {} is now {}", company.id, company.status.as_str());
    Ok(())
}

pub fn run_offer(command: OfferCommand) -> Result<(), CliError> {
    let ready = prepare(Config::from_env()?)?;
    let mut conn = ready.pool.get().map_err(|e| CliError::Other(e.to_string()))?;
    let now = infobank_web::clock::now();
    let (id, approve, reason) = match command {
        OfferCommand::List => {
            for offer in offers::pending(&mut conn, 200).map_err(fail)? {
                println!("{}", json!(offer));
            }
            return Ok(());
        }
        OfferCommand::Approve { id, reason } => (id, true, reason),
        OfferCommand::Reject { id, reason } => (id, false, Some(reason)),
    };
    let offer = offers::review(&mut conn, &id, approve, reason.as_deref(), "cli", now).map_err(fail)?;
    println!("offer {} is now {}", offer.id, offer.status);
    Ok(())
}
