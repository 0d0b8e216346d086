//! `/home`: where each role lands after signing in. A citizen gets her dashboard (coins, live
//! consents with the next expiry and a revoke button each, the latest disclosures, offers
//! waiting for her decision, what she entrusted, her unread notices); the operator the review
//! queues with their counts; the regulator a way into the oversight dashboard. Every role sees
//! its account facts.

use std::collections::{HashMap, HashSet};

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use infobank_accounts::{Profile, Role, profile};
use infobank_coins::{Account, ledger};
use infobank_consent::companies::{self, CompanyStatus};
use infobank_consent::consents::{self, ConsentSummary};
use infobank_consent::disclosure::{self, DisclosureRecord};
use infobank_consent::notices::{self, Notice};
use infobank_consent::offers::{self, Offer};
use infobank_vault::records;

use super::context::PortalContext;
use super::forms::t_owned;
use super::i18n::Messages;
use super::inbox::{NoticeView, notice_view};
use super::pages::{Layout, render};
use crate::error::ApiError;

/// How many of each list the dashboard shows before "see all".
const SHOWN: usize = 5;

pub struct LiveConsent {
    pub id: String,
    pub offer_title: String,
    pub company: String,
    pub status_label: String,
    pub expires_on: String,
}

pub struct RecentDisclosure {
    pub company: String,
    pub what: String,
    pub when: String,
}

pub struct WaitingOffer {
    pub id: String,
    pub title: String,
    pub company: String,
}

pub struct Entrusted {
    pub category: String,
    pub label: String,
    pub count: i64,
}

pub struct CitizenDashboard {
    pub balance: i64,
    pub live_count: usize,
    pub live: Vec<LiveConsent>,
    pub next_expiry: Option<LiveConsent>,
    pub disclosures: Vec<RecentDisclosure>,
    pub waiting_count: usize,
    pub waiting: Vec<WaitingOffer>,
    pub entrusted_total: i64,
    pub entrusted: Vec<Entrusted>,
    pub notices: Vec<NoticeView>,
}

pub struct OperatorQueues {
    pub companies_applied: i64,
    pub offers_pending: i64,
    pub companies_approved: i64,
    pub companies_suspended: i64,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    l: Layout<'a>,
    display_name: String,
    email: String,
    role_key: &'static str,
    member_since: String,
    citizen: Option<CitizenDashboard>,
    operator: Option<OperatorQueues>,
    is_regulator: bool,
}

/// Everything the citizen's dashboard reads, in one database job.
struct CitizenData {
    balance: i64,
    consents: Vec<ConsentSummary>,
    disclosures: Vec<DisclosureRecord>,
    open_offers: Vec<(Offer, String)>,
    counts: Vec<(String, i64)>,
    notices: Vec<Notice>,
    /// Offers she declined: they wait no more either.
    declined: HashSet<String>,
}

pub async fn home(ctx: PortalContext) -> Result<HttpResponse, ApiError> {
    let Some(account) = ctx.account.clone() else {
        return Ok(ctx.redirect("/signin").finish());
    };
    let id = account.id.clone();
    let p: Profile = ctx.state.db(move |conn, keys| profile(conn, keys, &id)).await?;
    let (role_key, citizen, operator) = match p.role {
        Role::Citizen => (
            "home.role_citizen",
            Some(citizen_dashboard(&ctx, account.id).await?),
            None,
        ),
        Role::Operator => ("home.role_operator", None, Some(operator_queues(&ctx).await?)),
        Role::Regulator => ("home.role_regulator", None, None),
    };
    let page = HomePage {
        l: Layout::of(&ctx),
        display_name: p.display_name,
        email: p.email,
        role_key,
        member_since: p.created_at.format("%Y-%m-%d").to_string(),
        citizen,
        operator,
        is_regulator: p.role == Role::Regulator,
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

async fn citizen_dashboard(ctx: &PortalContext, citizen: String) -> Result<CitizenDashboard, ApiError> {
    let data = ctx
        .state
        .db(move |conn, keys| {
            let balance = ledger::balance(conn, Account::Citizen(&citizen))?;
            let consents = consents::dashboard(conn, &citizen)?;
            let disclosures = disclosure::for_citizen(conn, keys, &citizen, None, SHOWN as i64)?;
            // A few companies make many offers: each name is read once.
            let mut names: HashMap<String, String> = HashMap::new();
            let mut open_offers = Vec::new();
            for offer in offers::open(conn, offers::MAX_PAGE)? {
                if !names.contains_key(&offer.company_id) {
                    let name = companies::get(conn, &offer.company_id)?.legal_name;
                    names.insert(offer.company_id.clone(), name);
                }
                let name = names.get(&offer.company_id).cloned().unwrap_or_default();
                open_offers.push((offer, name));
            }
            let counts = records::count_by_category(conn, &citizen)?;
            let notices = notices::for_citizen(conn, &citizen, 20)?;
            let declined = infobank_consent::declines::declined_ids(conn, &citizen)?;
            Ok::<_, ApiError>(CitizenData {
                balance,
                consents,
                disclosures,
                open_offers,
                counts,
                notices,
                declined,
            })
        })
        .await?;
    Ok(dashboard_from(&ctx.t(), data))
}

fn dashboard_from(t: &Messages<'_>, data: CitizenData) -> CitizenDashboard {
    let mut live: Vec<&ConsentSummary> = data
        .consents
        .iter()
        .filter(|c| matches!(c.consent.status.as_str(), "active" | "paused"))
        .collect();
    live.sort_by_key(|c| c.consent.expires_at);
    let live_view = |c: &ConsentSummary| LiveConsent {
        id: c.consent.id.clone(),
        offer_title: c.offer_title.clone(),
        company: c.company_name.clone(),
        status_label: t_owned(t, &format!("consents.status_{}", c.consent.status)),
        expires_on: c.consent.expires_at.format("%Y-%m-%d").to_string(),
    };
    // Offers she has decided on (whatever became of her consent, or declined) wait no more.
    let decided: HashSet<&str> = data.consents.iter().map(|c| c.consent.offer_id.as_str()).collect();
    let waiting: Vec<WaitingOffer> = data
        .open_offers
        .iter()
        .filter(|(o, _)| !decided.contains(o.id.as_str()) && !data.declined.contains(&o.id))
        .map(|(o, company)| WaitingOffer {
            id: o.id.clone(),
            title: o.title.clone(),
            company: company.clone(),
        })
        .collect();
    let disclosures = data
        .disclosures
        .iter()
        .map(|d| RecentDisclosure {
            company: d.company_name.clone(),
            what: d
                .categories
                .iter()
                .map(|c| t_owned(t, &format!("category.{c}")))
                .collect::<Vec<_>>()
                .join(t.get("home.list_separator")),
            when: d.disclosed_at.format("%Y-%m-%d %H:%M").to_string(),
        })
        .collect();
    let entrusted: Vec<Entrusted> = data
        .counts
        .iter()
        .map(|(category, count)| Entrusted {
            category: category.clone(),
            label: t_owned(t, &format!("category.{category}")),
            count: *count,
        })
        .collect();
    CitizenDashboard {
        balance: data.balance,
        live_count: live.len(),
        next_expiry: live.first().map(|c| live_view(c)),
        live: live.iter().take(SHOWN).map(|c| live_view(c)).collect(),
        disclosures,
        waiting_count: waiting.len(),
        waiting: waiting.into_iter().take(3).collect(),
        entrusted_total: entrusted.iter().map(|e| e.count).sum(),
        entrusted,
        notices: data
            .notices
            .iter()
            .filter(|n| !n.read)
            .take(3)
            .map(|n| notice_view(t, n))
            .collect(),
    }
}

async fn operator_queues(ctx: &PortalContext) -> Result<OperatorQueues, ApiError> {
    ctx.state
        .db(|conn, _| {
            let by_status = companies::count_by_status(conn)?;
            let count = |status: CompanyStatus| by_status.get(status.as_str()).copied().unwrap_or(0);
            Ok::<_, ApiError>(OperatorQueues {
                companies_applied: count(CompanyStatus::Applied),
                companies_approved: count(CompanyStatus::Approved),
                companies_suspended: count(CompanyStatus::Suspended),
                offers_pending: offers::count_pending(conn)?,
            })
        })
        .await
}
