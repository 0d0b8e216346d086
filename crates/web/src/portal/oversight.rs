//! The regulator's dashboard (`/regulator`): totals and monthly trends of consents and
//! disclosures, disclosures per company and purpose, refused attempts by reason, a report per
//! company, and the evidence bundle to take away (`/regulator/evidence`). Everything comes from
//! the log and the refusal counters (`infobank_consent::oversight`), never from personal data,
//! and every view is itself logged.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use infobank_accounts::Role;
use infobank_audit::{Action, record_read};
use infobank_consent::oversight::{COUNTED, Counts, Report};
use infobank_consent::purposes::purpose;

use super::charts::{Chart, in_palette, stacked};
use super::context::PortalContext;
use super::forms::t_owned;
use super::i18n::{Lang, Messages};
use super::pages::{Layout, refuse, render};
use crate::error::ApiError;
use crate::evidence::DASHBOARD_MONTHS;

/// The consent events charted per month, in stacking order.
const CONSENT_SERIES: [&str; 4] = [
    "consent.granted",
    "consent.paused",
    "consent.revoked",
    "consent.expired",
];
const DISCLOSED: &str = Action::DataDisclosed.as_str();

pub struct Total {
    pub action: &'static str,
    pub label: String,
    pub count: i64,
}

pub struct CompanyRow {
    pub name: String,
    pub status_label: String,
    pub granted: i64,
    pub revoked: i64,
    pub expired: i64,
    pub disclosed: i64,
    pub statistics_runs: i64,
    pub refusals: i64,
}

#[derive(Template)]
#[template(path = "oversight.html")]
struct OversightPage<'a> {
    l: Layout<'a>,
    tree_size: i64,
    totals: Vec<Total>,
    refusals_total: i64,
    quota_hits: i64,
    charts: Vec<Chart>,
    companies: Vec<CompanyRow>,
    purposes: Vec<(String, i64)>,
    refusals: Vec<(String, String, i64)>,
}

/// `consent.granted` → the catalogue's `oversight.consent_granted`.
fn action_label(t: &Messages<'_>, action: &str) -> String {
    t_owned(t, &format!("oversight.{}", action.replace('.', "_")))
}

fn get(counts: &Counts, action: &str) -> i64 {
    counts.get(action).copied().unwrap_or(0)
}

fn page_from<'a>(ctx: &'a PortalContext, report: Report) -> OversightPage<'a> {
    let t = ctx.t();
    let totals = COUNTED
        .iter()
        .map(|a| Total {
            action: a.as_str(),
            label: action_label(&t, a.as_str()),
            count: get(&report.totals, a.as_str()),
        })
        .collect();
    let consent_series: Vec<String> = CONSENT_SERIES.iter().map(|a| action_label(&t, a)).collect();
    let consents_by_month = stacked(
        "chart-consents",
        t_owned(&t, "oversight.chart_consents"),
        t_owned(&t, "oversight.month"),
        in_palette(&consent_series),
        report
            .months
            .iter()
            .map(|m| {
                (
                    m.month.clone(),
                    CONSENT_SERIES.iter().map(|a| get(&m.counts, a)).collect(),
                )
            })
            .collect(),
    );
    let disclosures_by_month = stacked(
        "chart-disclosures",
        t_owned(&t, "oversight.chart_disclosures"),
        t_owned(&t, "oversight.month"),
        in_palette(&[action_label(&t, DISCLOSED)]),
        report
            .months
            .iter()
            .map(|m| (m.month.clone(), vec![get(&m.counts, DISCLOSED)]))
            .collect(),
    );
    let by_company = stacked(
        "chart-companies",
        t_owned(&t, "oversight.chart_companies"),
        t_owned(&t, "oversight.company"),
        in_palette(&[action_label(&t, DISCLOSED), t_owned(&t, "oversight.refusals")]),
        report
            .companies
            .iter()
            .map(|c| (c.legal_name.clone(), vec![get(&c.counts, DISCLOSED), c.refusals]))
            .collect(),
    );
    let companies = report
        .companies
        .iter()
        .map(|c| CompanyRow {
            name: c.legal_name.clone(),
            status_label: t_owned(&t, &format!("company_status.{}", c.status)),
            granted: get(&c.counts, "consent.granted"),
            revoked: get(&c.counts, "consent.revoked"),
            expired: get(&c.counts, "consent.expired"),
            disclosed: get(&c.counts, DISCLOSED),
            statistics_runs: get(&c.counts, "statistics.run"),
            refusals: c.refusals,
        })
        .collect();
    let purposes = report
        .disclosures_by_purpose
        .iter()
        .map(|(code, n)| {
            let label = purpose(code).map_or_else(
                || code.clone(),
                |p| match ctx.lang {
                    Lang::En => p.label_en.to_owned(),
                    Lang::Ja => p.label_ja.to_owned(),
                },
            );
            (label, *n)
        })
        .collect();
    let refusals = report
        .refusals_by_reason
        .iter()
        .map(|(code, n)| (code.clone(), t_owned(&t, &format!("refusal.{code}")), *n))
        .collect();
    OversightPage {
        l: Layout::of(ctx),
        tree_size: report.tree_size,
        totals,
        refusals_total: report.refusals_by_reason.values().sum(),
        quota_hits: report.quota_hits,
        charts: vec![consents_by_month, disclosures_by_month, by_company],
        companies,
        purposes,
        refusals,
    }
}

pub async fn dashboard(ctx: PortalContext) -> Result<HttpResponse, ApiError> {
    let Some(regulator_id) = ctx.account_id_as(Role::Regulator) else {
        return Ok(refuse(&ctx));
    };
    let now = crate::clock::now();
    let report = ctx
        .state
        .db(move |conn, _| {
            let report = infobank_consent::oversight::report(conn, now, DASHBOARD_MONTHS, None)?;
            record_read(conn, &regulator_id, "portal statistics", now)?;
            Ok::<_, ApiError>(report)
        })
        .await?;
    Ok(render(&ctx, StatusCode::OK, &page_from(&ctx, report)))
}

pub async fn evidence(ctx: PortalContext) -> Result<HttpResponse, ApiError> {
    let Some(regulator_id) = ctx.account_id_as(Role::Regulator) else {
        return Ok(refuse(&ctx));
    };
    crate::api::audit::evidence_response(&ctx.state, regulator_id).await
}
