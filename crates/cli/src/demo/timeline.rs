//! The demo's four months, drawn first and then played in the order they happened: companies
//! apply and are vetted and funded, offers are reviewed, citizens join and entrust their data,
//! accept offers, pause and revoke some, companies fetch what they may (and are refused what
//! they may not), the institute runs its statistics, citizens redeem coins; and every day, as
//! the server's background task would, consents past their time expire and the reminders due
//! are written.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use infobank_accounts::{NewAccount, Role, create_account};
use infobank_coins::redemption::{Target, redeem};
use infobank_coins::{Account, ledger};
use infobank_consent::companies::{self, CompanyStatus, Credentials};
use infobank_consent::consents::{self, Change};
use infobank_consent::disclosure::{Attesting, disclose};
use infobank_consent::offers;
use infobank_consent::statistics::run::run as run_statistics;
use infobank_consent::{ConsentError, declines, notices, refusals};
use infobank_crypto::{KeyRing, TokenSigner};
use infobank_db::DbConnection;
use infobank_vault::import::{ImportBody, import};
use infobank_vault::records;
use serde_json::Value;

use super::bank::{self, DemoCompany};
use super::people::Person;
use super::rng::Rng;
use crate::setup::CliError;

/// How far back the demo's history goes, in days.
pub const HISTORY_DAYS: i64 = 125;
/// Coins each approved company buys for its rewards.
const FUNDING: i64 = 500_000;

pub struct Settings {
    pub citizens: usize,
    pub seed: u64,
    pub statistics_k: i64,
    pub attestation_ttl: Duration,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub struct Tally {
    pub citizens: usize,
    pub records: usize,
    pub consents: usize,
    pub active: usize,
    pub paused: usize,
    pub revoked: usize,
    pub expired: usize,
    pub disclosures: usize,
    pub refusals: usize,
    pub statistics_runs: usize,
    pub redemptions: usize,
    pub declines: usize,
}

pub struct Outcome {
    pub tally: Tally,
    pub first_citizen_email: String,
    /// The retailer's name and credentials (the company sign-in printed).
    pub retailer: (String, Credentials),
}

/// One thing that happens, to citizen `who` or about offer `offer` (an index into the flat list
/// of offers).
enum Step {
    Join {
        who: usize,
    },
    Entrust {
        who: usize,
        category: &'static str,
        data: Value,
    },
    Import {
        who: usize,
        rows: Value,
    },
    Accept {
        who: usize,
        offer: usize,
    },
    Change {
        who: usize,
        offer: usize,
        change: Change,
    },
    Fetch {
        who: usize,
        offer: usize,
    },
    RunStatistics {
        offer: usize,
    },
    Redeem {
        who: usize,
    },
    /// The citizen declines an offer: out of her inbox.
    Decline {
        who: usize,
        offer: usize,
    },
    /// A company applies (and waits for the operator).
    Apply {
        company: usize,
    },
    /// What the server's background task does, once a day here: expire the consents whose time
    /// is up, write the reminders due.
    Upkeep,
}

struct Timed {
    at: DateTime<Utc>,
    /// Ties keep the order they were drawn in.
    order: usize,
    step: Step,
}

/// An offer of the flat list, and the company behind it.
struct OfferPlan {
    company: usize,
    kind: &'static str,
    approved: bool,
    uptake: u64,
    consent_days: i64,
}

/// `days` (at least 1) days before today, `minutes` after 08:00 UTC (at most 15 hours): every
/// step is in the past, and the same seed on the same day draws the same times.
fn day_at(now: DateTime<Utc>, days: i64, minutes: i64) -> DateTime<Utc> {
    let midnight = (now.date_naive() - Duration::days(days.max(1)))
        .and_time(NaiveTime::MIN)
        .and_utc();
    midnight + Duration::hours(8) + Duration::minutes(minutes.clamp(0, 15 * 60))
}

pub fn play(conn: &mut DbConnection, keys: &KeyRing, settings: &Settings) -> Result<Outcome, CliError> {
    let now = settings.now;
    let today = now.date_naive();
    let root = Rng::new(settings.seed);
    let catalogue = bank::companies(today);
    let plans = offer_plans(&catalogue);
    let people: Vec<Person> = (0..settings.citizens)
        .map(|i| Person::new(&mut root.fork(i as u64), i, today))
        .collect();

    let (company_ids, retailer, offer_ids) = set_up_companies(conn, &catalogue, now)?;
    let late: Vec<usize> = (company_ids.len()..catalogue.len()).collect();
    let steps = draw(&root, &people, &plans, &late, now, today);

    let signer = TokenSigner::new(keys);
    let mut player = Player {
        conn,
        keys,
        signer: &signer,
        settings,
        people: &people,
        catalogue: &catalogue,
        plans: &plans,
        company_ids: &company_ids,
        offer_ids: &offer_ids,
        citizens: vec![None; people.len()],
        consents: HashMap::new(),
        rng: root.fork(u64::MAX),
        tally: Tally::default(),
    };
    let bar = crate::audit::progress(steps.len() as u64, "seeding the demo bank");
    for timed in steps {
        player.play(timed.at, timed.step)?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    player.finish(now)?;
    let first_citizen_email = people.first().map(citizen_email).unwrap_or_default();
    Ok(Outcome {
        tally: player.tally,
        first_citizen_email,
        retailer,
    })
}

fn citizen_email(person: &Person) -> String {
    format!("{}@citizens.{}", person.email_local, super::STAFF_DOMAIN)
}

fn offer_plans(catalogue: &[DemoCompany]) -> Vec<OfferPlan> {
    let mut plans = Vec::new();
    for (company, c) in catalogue.iter().enumerate() {
        for o in &c.offers {
            plans.push(OfferPlan {
                company,
                kind: o.proposal.ask.kind(),
                approved: o.approved && c.approved,
                uptake: o.uptake,
                consent_days: i64::from(o.proposal.consent_days),
            });
        }
    }
    plans
}

type Companies = (Vec<String>, (String, Credentials), Vec<String>);

/// The approved companies apply, are approved and funded, and their offers are proposed and
/// reviewed, each phase for all of them before the next, so that the log's times only grow.
/// The others apply later, in the timeline ([`Step::Apply`]); they have no offers.
fn set_up_companies(
    conn: &mut DbConnection,
    catalogue: &[DemoCompany],
    now: DateTime<Utc>,
) -> Result<Companies, CliError> {
    let fail = |what: &str, e: &dyn std::fmt::Display| CliError::Other(format!("demo: {what}: {e}"));
    let approved: Vec<&DemoCompany> = catalogue.iter().take_while(|c| c.approved).collect();
    if catalogue[approved.len()..]
        .iter()
        .any(|c| c.approved || !c.offers.is_empty())
    {
        return Err(CliError::Other(
            "demo: approved companies come first, and the others have no offers".into(),
        ));
    }
    let at = |days: i64, i: usize, n: usize| day_at(now, days, 60 + i as i64 * 10 + n as i64);
    let mut ids = Vec::new();
    let mut retailer = None;
    for (i, c) in approved.iter().enumerate() {
        let (company, creds) = companies::apply(conn, &c.application, at(HISTORY_DAYS, i, 0))
            .map_err(|e| fail(&c.application.legal_name, &e))?;
        retailer.get_or_insert((company.legal_name, creds));
        ids.push(company.id);
    }
    for (i, id) in ids.iter().enumerate() {
        companies::decide(
            conn,
            id,
            CompanyStatus::Approved,
            None,
            "demo-operator",
            at(HISTORY_DAYS - 1, i, 0),
        )
        .map_err(|e| fail("approving a company", &e))?;
    }
    for (i, id) in ids.iter().enumerate() {
        let key = format!("demo-funding-{i}");
        infobank_coins::funding::fund_company(conn, id, FUNDING, &key, "demo-operator", at(HISTORY_DAYS - 1, i, 40))
            .map_err(|e| fail("funding a company", &e))?;
    }
    let mut offer_ids = Vec::new();
    let mut to_review = Vec::new();
    for (i, (c, id)) in approved.iter().zip(&ids).enumerate() {
        for (n, o) in c.offers.iter().enumerate() {
            let offer = offers::propose(conn, id, &o.proposal, at(HISTORY_DAYS - 1, i, 120 + n))
                .map_err(|e| fail(&o.proposal.title, &e))?;
            if o.approved {
                to_review.push((offer.id.clone(), at(HISTORY_DAYS - 2, i, n)));
            }
            offer_ids.push(offer.id);
        }
    }
    for (offer, at) in to_review {
        offers::review(conn, &offer, true, None, "demo-operator", at).map_err(|e| fail("reviewing an offer", &e))?;
    }
    let retailer = retailer.ok_or_else(|| CliError::Other("demo: no approved company".into()))?;
    Ok((ids, retailer, offer_ids))
}

/// Draws every citizen's four months, then sorts them into one history.
fn draw(
    root: &Rng,
    people: &[Person],
    plans: &[OfferPlan],
    late: &[usize],
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Vec<Timed> {
    let mut steps: Vec<Timed> = Vec::new();
    let mut push = |at: DateTime<Utc>, step: Step| {
        let order = steps.len();
        steps.push(Timed { at, order, step });
    };
    for (who, person) in people.iter().enumerate() {
        let mut rng = root.fork(1_000_000 + who as u64);
        // Most joined three to four months ago, the rest since: the bank is growing. The first
        // citizen (whose sign-in is printed) has been there from the start.
        let joined = if who == 0 {
            HISTORY_DAYS - 5
        } else if rng.chance(65) {
            rng.between(95, HISTORY_DAYS - 5)
        } else {
            rng.between(35, 94)
        };
        let minute = rng.between(0, 600);
        push(day_at(now, joined, minute), Step::Join { who });
        for (n, (category, data)) in person.attributes(&mut rng, today).into_iter().enumerate() {
            push(
                day_at(now, joined, minute + 1 + n as i64),
                Step::Entrust { who, category, data },
            );
        }
        // Three months of payments, imported month by month (at joining, what came before).
        for (start, end) in [(90, 61), (60, 31), (30, 1)] {
            let rows = person.payments(&mut rng, today - Duration::days(start), today - Duration::days(end));
            push(day_at(now, end.min(joined), minute + 30), Step::Import { who, rows });
        }
        // Moods and physical condition, most evenings of the last 30 days, for those who log them.
        let (logs_mood, logs_body) = (rng.chance(75) || who == 0, rng.chance(55) || who == 0);
        for days in (1..=30).rev().filter(|d| *d < joined) {
            let day = today - Duration::days(days);
            if logs_mood && rng.chance(85) {
                let data = person.mood(&mut rng, day);
                push(
                    day_at(now, days, 600),
                    Step::Entrust {
                        who,
                        category: "daily_mood",
                        data,
                    },
                );
            }
            if logs_body && rng.chance(85) {
                let data = person.condition(&mut rng, day);
                push(
                    day_at(now, days, 605),
                    Step::Entrust {
                        who,
                        category: "physical_condition",
                        data,
                    },
                );
            }
        }
        for (offer, plan) in plans.iter().enumerate().filter(|(_, p)| p.approved) {
            let accepted = match (who, plan.kind, plan.consent_days) {
                // The printed citizen: a consent old enough for the 90-day reminder, one ending
                // within two weeks, and a statistics offer.
                (0, "records", 180) => Some(100),
                (0, "predicates", 30) => Some(20),
                (0, "statistics", _) => Some(60),
                (0, "records", 365) => Some(45),
                (0, _, _) => None,
                _ if rng.chance(plan.uptake) => Some(rng.between(2, (joined - 1).min(110))),
                _ => None,
            };
            let Some(accepted) = accepted else {
                // Some say "not for me" instead.
                if who != 0 && rng.chance(10) {
                    let day = rng.between(2, (joined - 1).min(110));
                    push(day_at(now, day, 650), Step::Decline { who, offer });
                }
                continue;
            };
            push(day_at(now, accepted, 660), Step::Accept { who, offer });
            // Some pause (a few resume), some revoke; the rest run until they end.
            let mut ended = 0;
            if who != 0 && accepted > 10 && rng.chance(12) {
                let paused = rng.between(3, accepted - 3);
                push(
                    day_at(now, paused, 300),
                    Step::Change {
                        who,
                        offer,
                        change: Change::Pause,
                    },
                );
                if rng.chance(40) {
                    push(
                        day_at(now, paused - 2, 300),
                        Step::Change {
                            who,
                            offer,
                            change: Change::Resume,
                        },
                    );
                }
            } else if who != 0 && accepted > 10 && rng.chance(12) {
                ended = rng.between(2, accepted - 5);
                push(
                    day_at(now, ended, 300),
                    Step::Change {
                        who,
                        offer,
                        change: Change::Revoke,
                    },
                );
            }
            if plan.kind != "statistics" {
                // The company fetches every week, and keeps trying a little after a revocation.
                let mut days = accepted - 1;
                while days >= 1 && days + 7 >= ended {
                    push(day_at(now, days, 120), Step::Fetch { who, offer });
                    if rng.chance(3) {
                        push(day_at(now, days, 125), Step::Fetch { who, offer });
                    }
                    days -= 7;
                }
            }
        }
        if rng.chance(30) {
            push(day_at(now, 1, 480), Step::Redeem { who });
        }
    }
    for (offer, plan) in plans.iter().enumerate() {
        if plan.approved && plan.kind == "statistics" {
            push(day_at(now, 2, 240), Step::RunStatistics { offer });
        }
    }
    for &company in late {
        push(day_at(now, 3, 120), Step::Apply { company });
    }
    // Last thing each day, after everything else that day.
    for days in (1..HISTORY_DAYS).rev() {
        push(day_at(now, days, 15 * 60), Step::Upkeep);
    }
    steps.sort_by_key(|t| (t.at, t.order));
    steps
}

struct Player<'a> {
    conn: &'a mut DbConnection,
    keys: &'a KeyRing,
    signer: &'a TokenSigner,
    settings: &'a Settings,
    people: &'a [Person],
    catalogue: &'a [DemoCompany],
    plans: &'a [OfferPlan],
    company_ids: &'a [String],
    offer_ids: &'a [String],
    citizens: Vec<Option<String>>,
    consents: HashMap<(usize, usize), String>,
    rng: Rng,
    tally: Tally,
}

impl Player<'_> {
    fn citizen(&self, who: usize) -> Result<String, CliError> {
        self.citizens
            .get(who)
            .cloned()
            .flatten()
            .ok_or_else(|| CliError::Other(format!("demo: citizen {who} acts before joining")))
    }

    fn play(&mut self, at: DateTime<Utc>, step: Step) -> Result<(), CliError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| CliError::Other(format!("demo: {what}: {e}"));
        match step {
            Step::Join { who } => {
                let person = &self.people[who];
                let email = citizen_email(person);
                let new = NewAccount {
                    role: Role::Citizen,
                    email: &email,
                    password: super::DEMO_PASSWORD,
                    display_name: &person.display_name,
                };
                let id = create_account(self.conn, self.keys, &new, at).map_err(|e| fail("a citizen", &e))?;
                self.citizens[who] = Some(id);
                self.tally.citizens += 1;
            }
            Step::Entrust { who, category, data } => {
                let citizen = self.citizen(who)?;
                records::create(self.conn, self.keys, &citizen, category, &data, at).map_err(|e| fail(category, &e))?;
                self.tally.records += 1;
            }
            Step::Import { who, rows } => {
                let citizen = self.citizen(who)?;
                let body = serde_json::to_vec(&rows).map_err(|e| fail("payments", &e))?;
                let outcome = import(
                    self.conn,
                    self.keys,
                    &citizen,
                    "payment_history",
                    ImportBody::Json(&body),
                    at,
                )
                .map_err(|e| fail("importing payments", &e))?;
                self.tally.records += outcome.imported;
            }
            Step::Accept { who, offer } => {
                let citizen = self.citizen(who)?;
                let consent = consents::accept(self.conn, self.keys, self.signer, &citizen, &self.offer_ids[offer], at)
                    .map_err(|e| fail("accepting an offer", &e))?;
                self.consents.insert((who, offer), consent.id);
                self.tally.consents += 1;
            }
            Step::Change { who, offer, change } => {
                let citizen = self.citizen(who)?;
                let Some(consent) = self.consents.get(&(who, offer)) else {
                    return Ok(());
                };
                match consents::change(self.conn, self.signer, &citizen, consent, change, at) {
                    // A consent that ended on its own before the citizen got to it.
                    Ok(_) | Err(ConsentError::NotLive(_) | ConsentError::InvalidTransition { .. }) => {}
                    Err(e) => return Err(fail("changing a consent", &e)),
                }
            }
            Step::Fetch { who, offer } => {
                let Some(consent) = self.consents.get(&(who, offer)) else {
                    return Ok(());
                };
                let company = &self.company_ids[self.plans[offer].company];
                let attesting = Attesting {
                    signer: self.signer,
                    ttl: self.settings.attestation_ttl,
                };
                match disclose(self.conn, self.keys, attesting, company, consent, at) {
                    Ok(_) => self.tally.disclosures += 1,
                    Err(refused) => {
                        let reason = refusals::reason_of(&refused).ok_or_else(|| fail("a disclosure", &refused))?;
                        refusals::count(self.conn, company, reason, at).map_err(|e| fail("counting a refusal", &e))?;
                        self.tally.refusals += 1;
                    }
                }
            }
            Step::RunStatistics { offer } => {
                let company = &self.company_ids[self.plans[offer].company];
                run_statistics(
                    self.conn,
                    self.keys,
                    company,
                    &self.offer_ids[offer],
                    self.settings.statistics_k,
                    at,
                )
                .map_err(|e| fail("a statistics run", &e))?;
                self.tally.statistics_runs += 1;
            }
            Step::Apply { company } => {
                let application = &self.catalogue[company].application;
                companies::apply(self.conn, application, at).map_err(|e| fail(&application.legal_name, &e))?;
            }
            Step::Upkeep => self.upkeep(at)?,
            Step::Decline { who, offer } => {
                let citizen = self.citizen(who)?;
                declines::decline(self.conn, &citizen, &self.offer_ids[offer], at)
                    .map_err(|e| fail("declining an offer", &e))?;
                self.tally.declines += 1;
            }
            Step::Redeem { who } => {
                let citizen = self.citizen(who)?;
                let balance =
                    ledger::balance(self.conn, Account::Citizen(&citizen)).map_err(|e| fail("a balance", &e))?;
                if balance >= 20 {
                    let target = *self.rng.pick(&Target::ALL);
                    let key = format!("demo-redeem-{who}");
                    redeem(self.conn, &citizen, balance / 2, target, &key, at).map_err(|e| fail("a redemption", &e))?;
                    self.tally.redemptions += 1;
                }
            }
        }
        Ok(())
    }

    /// What the server's background task does every minute: expire what ran out, write the
    /// reminders due (each call does a batch; until nothing is left).
    fn upkeep(&mut self, at: DateTime<Utc>) -> Result<(), CliError> {
        let fail = |e: ConsentError| CliError::Other(format!("demo: {e}"));
        while consents::expire_due(self.conn, self.signer, at, 500).map_err(fail)? > 0 {}
        while notices::remind_due(self.conn, at).map_err(fail)? > 0 {}
        Ok(())
    }

    /// The upkeep due by now, then the consents counted by state.
    fn finish(&mut self, now: DateTime<Utc>) -> Result<(), CliError> {
        self.upkeep(now)?;
        let fail = |e: ConsentError| CliError::Other(format!("demo: {e}"));
        for (&(who, _), consent) in &self.consents {
            let citizen = self.citizen(who)?;
            let status = consents::get_for_citizen(self.conn, &citizen, consent)
                .map_err(fail)?
                .status;
            match status.as_str() {
                "active" => self.tally.active += 1,
                "paused" => self.tally.paused += 1,
                "revoked" => self.tally.revoked += 1,
                _ => self.tally.expired += 1,
            }
        }
        Ok(())
    }
}
