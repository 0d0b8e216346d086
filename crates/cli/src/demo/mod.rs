//! `infobank demo [--citizens N] [--seed S]` and `infobank serve --demo`: a believable bank on an
//! empty database, so that a newcomer sees every page with something on it.
//!
//! Everything goes through the same domain functions as the API and the portal (accounts,
//! vault, companies, offers, consents, disclosures, statistics, coins), at times spread over the
//! last four months, in the order they happened: the audit log, the receipts, the coin ledger and
//! the reminders are the real ones, and `infobank audit verify` checks them like any other.
//! What is drawn (names, places, habits, who accepts what, when) comes from the seed alone; the
//! ids, keys and secrets are random as always.

mod bank;
mod people;
mod rng;
mod timeline;

use std::time::Instant;

use infobank_accounts::{NewAccount, Role, create_account};
use infobank_db::DbConnection;
use infobank_db::diesel::prelude::*;
use infobank_db::schema::{accounts, companies};

use crate::setup::{CliError, Ready};

/// The password of every demo account, printed at the end. A demo bank is for trying out only.
pub const DEMO_PASSWORD: &str = "infobank-demo-2026";
const STAFF_DOMAIN: &str = "demo.infobank.example";

#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    pub citizens: usize,
    pub seed: u64,
}

/// One sign-in per role, as printed.
pub struct SignIns {
    pub citizen_email: String,
    pub company_name: String,
    pub client_id: String,
    pub client_secret: String,
    pub operator_email: String,
    pub regulator_email: String,
}

/// What was seeded, for the closing lines.
pub struct Seeded {
    pub sign_ins: SignIns,
    pub tally: timeline::Tally,
    pub seconds: f64,
}

/// Whether the database holds no account and no company yet.
pub fn is_empty(conn: &mut DbConnection) -> Result<bool, CliError> {
    let fail = |e: infobank_db::diesel::result::Error| CliError::Other(e.to_string());
    let accounts: i64 = accounts::table.count().get_result(conn).map_err(fail)?;
    let companies: i64 = companies::table.count().get_result(conn).map_err(fail)?;
    Ok(accounts == 0 && companies == 0)
}

/// Seeds the demo bank into `ready`'s database, which must be empty.
pub fn seed(ready: &Ready, options: DemoOptions) -> Result<Seeded, CliError> {
    let started = Instant::now();
    let mut conn = ready.pool.get().map_err(|e| CliError::Other(e.to_string()))?;
    if !is_empty(&mut conn)? {
        return Err(CliError::Other(
            "the database is not empty: the demo seeds only a new bank. Point INFOBANK_DATA_DIR (or \
             INFOBANK_DATABASE_URL) at an empty place, e.g. `INFOBANK_DATA_DIR=./demo-data infobank demo`"
                .into(),
        ));
    }
    let now = infobank_web::clock::now();
    let staff = |conn: &mut DbConnection, role: Role, name: &str, at| {
        let email = format!("{}@{STAFF_DOMAIN}", role.as_str());
        let new = NewAccount {
            role,
            email: &email,
            password: DEMO_PASSWORD,
            display_name: name,
        };
        create_account(conn, &ready.keys, &new, at)
            .map_err(|e| CliError::Other(format!("{} account: {e}", role.as_str())))?;
        Ok::<_, CliError>(email)
    };
    let start = now - chrono::Duration::days(timeline::HISTORY_DAYS + 5);
    let operator_email = staff(&mut conn, Role::Operator, "運営担当 山口", start)?;
    let regulator_email = staff(&mut conn, Role::Regulator, "監督官 森", start)?;
    let settings = timeline::Settings {
        citizens: options.citizens,
        seed: options.seed,
        statistics_k: ready.config.disclose_less.statistics_k,
        attestation_ttl: chrono::Duration::seconds(ready.config.disclose_less.attestation_ttl_seconds),
        now,
    };
    let outcome = timeline::play(&mut conn, &ready.keys, &settings)?;
    Ok(Seeded {
        sign_ins: SignIns {
            citizen_email: outcome.first_citizen_email,
            company_name: outcome.retailer.0,
            client_id: outcome.retailer.1.client_id.clone(),
            client_secret: outcome.retailer.1.client_secret.clone(),
            operator_email,
            regulator_email,
        },
        tally: outcome.tally,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The closing lines: what was made, where to go, and one sign-in per role. The browser test
/// reads these lines; keep their shape (`  <role>  <who>  <secret>`).
pub fn print_summary(seeded: &Seeded, portal: &str) {
    let t = &seeded.tally;
    let s = &seeded.sign_ins;
    println!(
        "demo bank seeded in {:.1} s: {} citizens, {} records, {} consents ({} active, {} paused, {} revoked, {} expired), \
         {} disclosures, {} refused, {} statistics runs, {} redemptions, {} offers declined",
        seeded.seconds,
        t.citizens,
        t.records,
        t.consents,
        t.active,
        t.paused,
        t.revoked,
        t.expired,
        t.disclosures,
        t.refusals,
        t.statistics_runs,
        t.redemptions,
        t.declines
    );
    println!("portal: {portal}");
    println!("sign in (a demo bank: these credentials are for trying it out only):");
    println!("  citizen    {}  {DEMO_PASSWORD}   at {portal}signin", s.citizen_email);
    println!(
        "  company    {}  {}   at {portal}company/signin ({})",
        s.client_id, s.client_secret, s.company_name
    );
    println!("  operator   {}  {DEMO_PASSWORD}   at {portal}signin", s.operator_email);
    println!(
        "  regulator  {}  {DEMO_PASSWORD}   at {portal}signin",
        s.regulator_email
    );
}

/// `infobank demo`: seeds and exits; `infobank serve` then serves it.
pub fn run(options: DemoOptions) -> Result<(), CliError> {
    let ready = crate::setup::prepare(infobank_web::Config::from_env()?)?;
    let seeded = seed(&ready, options)?;
    let portal = format!("http://{}/", ready.config.listen);
    print_summary(&seeded, &portal);
    println!("start it with `infobank serve` (the same INFOBANK_DATA_DIR)");
    Ok(())
}
