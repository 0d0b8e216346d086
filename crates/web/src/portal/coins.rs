//! "Coins": the citizen's balance, a chart of coins earned per month by source (SVG drawn on the
//! server, readable without JavaScript), the history with every entry explained in words, the
//! redeem form and the policy page; and for operators, every company's coins and reservations.

use std::collections::BTreeMap;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Form, Path, Query};
use askama::Template;
use chrono::{DateTime, Datelike as _, Months, Utc};
use infobank_accounts::Role;
use infobank_coins::funding::{CompanyCoins, companies, company_coins};
use infobank_coins::redemption::{Target, redeem};
use infobank_coins::statement::{Line, earned_per_month, history};
use infobank_coins::{Account, CoinsError, PublishedPolicy, Reason, ledger, policy};
use serde::Deserialize;

use super::charts::{Chart, stacked};
use super::context::PortalContext;
use super::forms::t_owned;
use super::i18n::Messages;
use super::pages::{Layout, csrf_refused, error_page, refuse, render};
use crate::error::ApiError;

const PAGE_SIZE: i64 = 25;
/// The chart shows this many calendar months, the current one last.
const CHART_MONTHS: u32 = 6;
/// The sources the chart stacks, bottom to top, with their fill colours.
const SOURCES: [(Reason, &str); 3] = [
    (Reason::EntrustReward, "#0b5cad"),
    (Reason::BreadthBonus, "#1e6b3a"),
    (Reason::OfferReward, "#b25e09"),
];

fn fill(template: &str, values: &[(&str, String)]) -> String {
    values.iter().fold(template.to_owned(), |text, (name, value)| {
        text.replace(&format!("{{{name}}}"), value)
    })
}

fn reason_label(t: &Messages<'_>, reason: Reason) -> String {
    t_owned(t, &format!("coins_reason.{}", reason.as_str()))
}

/// One entry in words: what was paid for and how the amount was computed.
fn explain(t: &Messages<'_>, line: &Line) -> String {
    let e = &line.entry;
    let input = |name: &str| match &e.inputs[name] {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let version = e.policy_version.map(|v| v.to_string()).unwrap_or_default();
    match e.reason {
        Reason::EntrustReward => fill(
            &t_owned(t, "coins_explain.entrust_reward"),
            &[
                ("category", t_owned(t, &format!("category.{}", input("category")))),
                ("units", input("units")),
                ("weight", input("weight")),
                ("version", version),
            ],
        ),
        Reason::BreadthBonus => {
            let nth: i64 = e.inputs["nth_company"].as_i64().unwrap_or(0);
            let max: i64 = e.inputs["breadth_max_companies"].as_i64().unwrap_or(0);
            fill(
                &t_owned(t, "coins_explain.breadth_bonus"),
                &[
                    ("nth", nth.to_string()),
                    ("counted", nth.min(max).to_string()),
                    ("bonus", input("breadth_bonus_per_company")),
                    ("version", version),
                ],
            )
        }
        Reason::OfferReward => fill(
            &t_owned(t, "coins_explain.offer_reward"),
            &[("consent", input("consent"))],
        ),
        Reason::Redemption => fill(
            &t_owned(t, "coins_explain.redemption"),
            &[("target", t_owned(t, &format!("coins_target.{}", input("target"))))],
        ),
        Reason::PredicateReward => fill(
            &t_owned(t, "coins_explain.predicate_reward"),
            &[
                ("answered", input("answered")),
                ("per", input("predicate_answer")),
                ("version", version),
            ],
        ),
        Reason::StatisticsReward => fill(&t_owned(t, "coins_explain.statistics_reward"), &[("version", version)]),
        Reason::Funding | Reason::Reservation | Reason::Release => reason_label(t, e.reason),
    }
}

struct HistoryRow {
    id: String,
    at: String,
    reason: &'static str,
    reason_label: String,
    explanation: String,
    amount: i64,
    balance_after: i64,
}

/// The last `CHART_MONTHS` months, oldest first, as `YYYY-MM`.
fn recent_months(now: DateTime<Utc>) -> Vec<String> {
    let first_of_month = now.with_day(1).unwrap_or(now);
    (0..CHART_MONTHS)
        .rev()
        .map(|back| {
            first_of_month
                .checked_sub_months(Months::new(back))
                .unwrap_or(first_of_month)
                .format("%Y-%m")
                .to_string()
        })
        .collect()
}

/// Coins earned per month, stacked by source.
fn chart(t: &Messages<'_>, months: &[String], earned: &BTreeMap<String, BTreeMap<Reason, i64>>) -> Chart {
    let empty_month = BTreeMap::new();
    let rows = months
        .iter()
        .map(|month| {
            let per_source = earned.get(month).unwrap_or(&empty_month);
            let values = SOURCES
                .iter()
                .map(|(reason, _)| per_source.get(reason).copied().unwrap_or(0))
                .collect();
            (month.clone(), values)
        })
        .collect();
    stacked(
        "coins-chart",
        t_owned(t, "coins.chart_title"),
        t_owned(t, "coins.month"),
        SOURCES.iter().map(|(r, color)| (*color, reason_label(t, *r))).collect(),
        rows,
    )
}

#[derive(Template)]
#[template(path = "coins.html")]
struct CoinsPage<'a> {
    l: Layout<'a>,
    balance: i64,
    rows: Vec<HistoryRow>,
    older: Option<String>,
    chart: Chart,
    notice: Option<&'static str>,
    error: Option<&'static str>,
    idempotency_key: String,
    amount: String,
    policy_version: Option<i32>,
}

#[derive(Deserialize)]
pub struct CoinsQuery {
    before: Option<String>,
    notice: Option<String>,
}

struct WalletData {
    balance: i64,
    lines: Vec<Line>,
    earned: BTreeMap<String, BTreeMap<Reason, i64>>,
    policy_version: Option<i32>,
}

async fn load_wallet(ctx: &PortalContext, citizen: String, before: Option<String>) -> Result<WalletData, ApiError> {
    let since = recent_months(crate::clock::now())
        .first()
        .and_then(|m| chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").ok())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or_else(crate::clock::now, |d| d.and_utc());
    ctx.state
        .db(move |conn, _| {
            let account = Account::Citizen(&citizen);
            Ok::<_, CoinsError>(WalletData {
                balance: ledger::balance(conn, account)?,
                lines: history(conn, account, before.as_deref(), PAGE_SIZE)?,
                earned: earned_per_month(conn, account, since)?,
                policy_version: policy::latest(conn)?.map(|p| p.version),
            })
        })
        .await
}

async fn coins_page(
    ctx: &PortalContext,
    citizen: String,
    before: Option<String>,
    notice: Option<&'static str>,
    error: Option<(&'static str, String)>,
) -> Result<HttpResponse, ApiError> {
    let data = load_wallet(ctx, citizen, before).await?;
    let t = ctx.t();
    let rows: Vec<HistoryRow> = data
        .lines
        .iter()
        .map(|line| HistoryRow {
            id: line.entry.id.clone(),
            at: line.entry.created_at.format("%Y-%m-%d %H:%M").to_string(),
            reason: line.entry.reason.as_str(),
            reason_label: reason_label(&t, line.entry.reason),
            explanation: explain(&t, line),
            amount: line.amount,
            balance_after: line.balance_after,
        })
        .collect();
    let older = (rows.len() as i64 == PAGE_SIZE)
        .then(|| rows.last().map(|r| r.id.clone()))
        .flatten();
    let months = recent_months(crate::clock::now());
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let (error, amount) = error.map_or((None, String::new()), |(key, amount)| (Some(key), amount));
    let page = CoinsPage {
        l: Layout::of(ctx),
        balance: data.balance,
        rows,
        older,
        chart: chart(&t, &months, &data.earned),
        notice,
        error,
        idempotency_key: infobank_crypto::random::token_string().map_err(ApiError::internal)?,
        amount,
        policy_version: data.policy_version,
    };
    Ok(render(ctx, status, &page))
}

pub async fn index(ctx: PortalContext, query: Query<CoinsQuery>) -> Result<HttpResponse, ApiError> {
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    let CoinsQuery { before, notice } = query.into_inner();
    let notice = match notice.as_deref() {
        Some("redeemed") => Some("coins.redeemed"),
        _ => None,
    };
    coins_page(&ctx, citizen, before, notice, None).await
}

#[derive(Deserialize)]
pub struct RedeemForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    target: String,
    /// Drawn when the form was rendered: submitting the same form twice redeems once.
    #[serde(default)]
    idempotency_key: String,
}

pub async fn redeem_submit(ctx: PortalContext, form: Form<RedeemForm>) -> Result<HttpResponse, ApiError> {
    if !ctx.csrf_matches(&form.csrf_token) {
        return Ok(csrf_refused(&ctx));
    }
    let Some(citizen) = ctx.account_id_as(Role::Citizen) else {
        return Ok(refuse(&ctx));
    };
    let RedeemForm {
        amount,
        target,
        idempotency_key,
        ..
    } = form.into_inner();
    let Ok(parsed) = amount.trim().parse::<i64>() else {
        return coins_page(&ctx, citizen, None, None, Some(("coins.invalid_amount", amount))).await;
    };
    let target = Target::parse(&target).unwrap_or(Target::PartnerPoints);
    let now = crate::clock::now();
    let who = citizen.clone();
    let result = ctx
        .state
        .db(move |conn, _| Ok::<_, ApiError>(redeem(conn, &who, parsed, target, &idempotency_key, now)))
        .await?;
    match result {
        Ok(_) => Ok(ctx.redirect("/coins?notice=redeemed").finish()),
        Err(CoinsError::InsufficientBalance { .. }) => {
            coins_page(&ctx, citizen, None, None, Some(("coins.insufficient", amount))).await
        }
        Err(CoinsError::InvalidAmount(_)) => {
            coins_page(&ctx, citizen, None, None, Some(("coins.invalid_amount", amount))).await
        }
        Err(CoinsError::IdempotencyConflict | CoinsError::Invalid(_)) => {
            coins_page(&ctx, citizen, None, None, Some(("coins.form_expired", amount))).await
        }
        Err(other) => Err(other.into()),
    }
}

struct RuleRow {
    label: String,
    weight: i64,
    records_per_unit: i64,
    monthly_cap_units: i64,
    max_per_month: i64,
}

#[derive(Template)]
#[template(path = "coins_policy.html")]
struct PolicyPage<'a> {
    l: Layout<'a>,
    version: i32,
    published_at: String,
    rules: Vec<RuleRow>,
    breadth_bonus: i64,
    breadth_max: i64,
    breadth_examples: Vec<(i64, i64)>,
    versions: Vec<(i32, String)>,
}

/// The policy in plain words, with every parameter. Public, like `GET /api/v1/reward-policy`.
pub async fn policy_page(ctx: PortalContext) -> Result<HttpResponse, ApiError> {
    let (published, versions): (Option<PublishedPolicy>, _) = ctx
        .state
        .db(|conn, _| Ok::<_, CoinsError>((policy::latest(conn)?, policy::versions(conn)?)))
        .await?;
    let Some(published) = published else {
        return Ok(error_page(
            &ctx,
            StatusCode::NOT_FOUND,
            "error.not_found_title",
            "error.not_found",
        ));
    };
    let t = ctx.t();
    let p = &published.policy;
    let rules = infobank_vault::categories::CATEGORIES
        .iter()
        .filter_map(|c| p.categories.get(c.name).map(|rule| (c, rule)))
        .map(|(c, rule)| RuleRow {
            label: t_owned(&t, &format!("category.{}", c.name)),
            weight: rule.weight,
            records_per_unit: rule.records_per_unit,
            monthly_cap_units: rule.monthly_cap_units,
            max_per_month: rule.weight * rule.monthly_cap_units,
        })
        .collect();
    let page = PolicyPage {
        l: Layout::of(&ctx),
        version: published.version,
        published_at: published.published_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        rules,
        breadth_bonus: p.breadth_bonus_per_company,
        breadth_max: p.breadth_max_companies,
        breadth_examples: (1..=3).map(|n| (n, p.breadth_bonus(n))).collect(),
        versions: versions
            .into_iter()
            .map(|(v, at)| (v, at.format("%Y-%m-%d %H:%M UTC").to_string()))
            .collect(),
    };
    Ok(render(&ctx, StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "operator_coins.html")]
struct OperatorCoinsPage<'a> {
    l: Layout<'a>,
    companies: Vec<(String, i64, i64)>,
    selected: Option<CompanyCoins>,
}

async fn operator_page(ctx: &PortalContext, company: Option<String>) -> Result<HttpResponse, ApiError> {
    if ctx.account_id_as(Role::Operator).is_none() {
        return Ok(refuse(ctx));
    }
    let (list, selected) = ctx
        .state
        .db(move |conn, _| {
            let selected = company.map(|id| company_coins(conn, &id, 100)).transpose()?;
            Ok::<_, CoinsError>((companies(conn)?, selected))
        })
        .await?;
    let page = OperatorCoinsPage {
        l: Layout::of(ctx),
        companies: list,
        selected,
    };
    Ok(render(ctx, StatusCode::OK, &page))
}

/// Every company's funding balance and escrow (the operator funds them with `infobank coins fund`).
pub async fn operator_index(ctx: PortalContext) -> Result<HttpResponse, ApiError> {
    operator_page(&ctx, None).await
}

/// One company's coins and its reservations.
pub async fn operator_company(ctx: PortalContext, id: Path<String>) -> Result<HttpResponse, ApiError> {
    operator_page(&ctx, Some(id.into_inner())).await
}
