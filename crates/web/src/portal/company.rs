//! The company portal: apply, sign in with the client credentials, see the status and the
//! operator's reasons, rotate the secret, create and list offers, and see consents and
//! disclosure counts. The session is a short-lived token with its own audience in an HttpOnly
//! cookie: it opens these pages only, never the API.

use std::collections::HashMap;

use actix_web::HttpResponse;
use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::http::StatusCode;
use actix_web::web::Form;
use askama::Template;
use chrono::{Duration, NaiveDate};
use infobank_audit::Action;
use infobank_coins::funding;
use infobank_consent::companies::{self, Application, Company, Credentials, Decision};
use infobank_consent::offers::{self, Offer};
use infobank_consent::oversight::{self, MonthCounts};
use infobank_consent::predicates::{ParamType, Predicate, catalogue};
use infobank_consent::purposes::PURPOSES;
use infobank_consent::statistics::catalogue::{DIMENSIONS, MEASURES, StatisticsSpec};
use infobank_consent::statistics::run::{self, RunSummary};
use infobank_consent::{ConsentError, consents};
use infobank_vault::categories::CATEGORIES;
use serde::Deserialize;

use super::context::{PortalContext, cookie};
use super::forms::t_owned;
use super::i18n::{Lang, Messages};
use super::pages::{CsrfOnly, Layout, csrf_refused, error_page, rate_limited, render};
use crate::api::offers::{NewOffer, proposal};
use crate::error::ApiError;

const COOKIE: &str = "infobank_company";
const AUDIENCE: &str = "infobank:company-portal";
/// The company portal's session. No token the server issues may outlive the time an earlier
/// signing key keeps verifying tokens after a rotation (`infobank_crypto::token`), or a rotation
/// would sign its holders out early.
const SESSION: Duration = Duration::minutes(60);

/// The signed-in company's id, from the portal cookie, while its session is current: replacing
/// the client secret ends every session signed in before it (as it ends the company's API tokens,
/// `auth::Authenticated<Company>`).
async fn company_id(ctx: &PortalContext) -> Result<Option<String>, ApiError> {
    let Some(claims) = ctx
        .company_session
        .as_deref()
        .and_then(|token| ctx.state.tokens.verify(token, AUDIENCE, crate::clock::now()).ok())
        .filter(|c| c.role == "company")
    else {
        return Ok(None);
    };
    let (id, signed_in_at) = (claims.sub, claims.iat);
    let company = id.clone();
    let current = ctx
        .state
        .db(move |conn, _| companies::session_is_current(conn, &company, signed_in_at))
        .await?;
    Ok(current.then_some(id))
}

/// The portal's session cookie for `company_id`, signed in now (dated no earlier than the first
/// second its secret allows, as the token endpoint dates its tokens).
fn session_cookie(
    ctx: &PortalContext,
    company_id: &str,
    sessions_valid_from: Option<i64>,
) -> Result<actix_web::cookie::Cookie<'static>, ApiError> {
    let issued_at = crate::auth::company_token_time(sessions_valid_from, crate::clock::now());
    let issued = ctx
        .state
        .tokens
        .issue(company_id, "company", AUDIENCE, SESSION, issued_at)
        .map_err(ApiError::internal)?;
    Ok(cookie(
        COOKIE,
        issued.token,
        CookieDuration::minutes(SESSION.num_minutes()),
        ctx.secure(),
    ))
}

#[derive(Template)]
#[template(path = "company_apply.html")]
struct ApplyPage<'a> {
    l: Layout<'a>,
    form: HashMap<String, String>,
    error: Option<(String, String)>,
    credentials: Option<(String, String, String)>,
}

impl ApplyPage<'_> {
    fn value(&self, name: &str) -> &str {
        self.form.get(name).map_or("", String::as_str)
    }
}

pub async fn apply_form(ctx: PortalContext) -> HttpResponse {
    let page = ApplyPage {
        l: Layout::of(&ctx),
        form: HashMap::new(),
        error: None,
        credentials: None,
    };
    render(&ctx, StatusCode::OK, &page)
}

pub async fn apply_submit(ctx: PortalContext, form: Form<HashMap<String, String>>) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    if !ctx.csrf_matches(form.get("csrf_token").map_or("", String::as_str)) {
        return Ok(csrf_refused(&ctx));
    }
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let expires = NaiveDate::parse_from_str(field("cert_expires_on").trim(), "%Y-%m-%d");
    let fail = |ctx: &PortalContext, form: HashMap<String, String>, name: &str, message: String| {
        let page = ApplyPage {
            l: Layout::of(ctx),
            form,
            error: Some((name.to_owned(), message)),
            credentials: None,
        };
        render(ctx, StatusCode::UNPROCESSABLE_ENTITY, &page)
    };
    let Ok(expires) = expires else {
        let message = t_owned(&ctx.t(), "company.date_format");
        return Ok(fail(&ctx, form, "security_certification.expires_on", message));
    };
    let app = Application {
        legal_name: field("legal_name"),
        corporate_number: field("corporate_number"),
        contact_email: field("contact_email"),
        privacy_policy_url: field("privacy_policy_url"),
        certification_kind: field("cert_kind"),
        certification_id: field("cert_id"),
        certification_expires_on: expires,
    };
    let now = crate::clock::now();
    let result = ctx
        .state
        .db(move |conn, _| Ok::<_, ApiError>(companies::apply(conn, &app, now)))
        .await?;
    match result {
        Ok((
            company,
            Credentials {
                client_id,
                client_secret,
            },
        )) => {
            let page = ApplyPage {
                l: Layout::of(&ctx),
                form: HashMap::new(),
                error: None,
                credentials: Some((company.id, client_id, client_secret)),
            };
            Ok(render(&ctx, StatusCode::CREATED, &page))
        }
        Err(ConsentError::Invalid { field, message }) => Ok(fail(&ctx, form, field, message)),
        Err(ConsentError::DuplicateCorporateNumber) => {
            let message = t_owned(&ctx.t(), "company.duplicate");
            Ok(fail(&ctx, form, "corporate_number", message))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "company_signin.html")]
struct SignInPage<'a> {
    l: Layout<'a>,
    failed: bool,
}

pub async fn signin_form(ctx: PortalContext) -> HttpResponse {
    render(
        &ctx,
        StatusCode::OK,
        &SignInPage {
            l: Layout::of(&ctx),
            failed: false,
        },
    )
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
}

pub async fn signin_submit(ctx: PortalContext, form: Form<SignInForm>) -> Result<HttpResponse, ApiError> {
    if !ctx.csrf_matches(&form.csrf_token) {
        return Ok(csrf_refused(&ctx));
    }
    // The token endpoint's limit: the same client credentials, tried through the portal.
    if let Some(refused) = rate_limited(&ctx, ctx.state.limits.token.as_ref()) {
        return Ok(refused);
    }
    let SignInForm {
        client_id,
        client_secret,
        ..
    } = form.into_inner();
    let result = ctx
        .state
        .db(move |conn, _| {
            Ok::<_, ApiError>(companies::verify_credentials(
                conn,
                client_id.trim(),
                client_secret.trim(),
            ))
        })
        .await?;
    let company = match result {
        Ok(c) => c,
        Err(ConsentError::InvalidCredentials) => {
            return Ok(render(
                &ctx,
                StatusCode::UNAUTHORIZED,
                &SignInPage {
                    l: Layout::of(&ctx),
                    failed: true,
                },
            ));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(ctx
        .redirect("/company")
        .cookie(session_cookie(&ctx, &company.id, company.sessions_valid_from())?)
        .finish())
}

pub async fn signout(ctx: PortalContext, form: Form<CsrfOnly>) -> HttpResponse {
    if !ctx.csrf_matches(&form.csrf_token) {
        return csrf_refused(&ctx);
    }
    let mut gone = cookie(COOKIE, String::new(), CookieDuration::ZERO, ctx.secure());
    gone.make_removal();
    ctx.redirect("/company/signin").cookie(gone).finish()
}

struct OfferRow {
    offer: Offer,
    consents: i64,
    live: i64,
    disclosures: i64,
}

#[derive(Template)]
#[template(path = "company.html")]
struct DashboardPage<'a> {
    l: Layout<'a>,
    company: Company,
    decisions: Vec<Decision>,
    offers: Vec<OfferRow>,
    new_secret: Option<String>,
    error: Option<(String, String)>,
    purposes: Vec<(&'static str, &'static str)>,
    categories: Vec<(&'static str, String)>,
    predicates: Vec<PredicateChoice>,
    dimensions: Vec<(&'static str, String)>,
    measures: Vec<(&'static str, String)>,
    runs: Vec<RunSummary>,
    created: bool,
    figures: Figures,
    charts: Vec<super::charts::Chart>,
}

impl DashboardPage<'_> {
    /// A company status in the page's language.
    fn status_label(&self, status: &str) -> String {
        t_owned(&self.l.t, &format!("company_status.{status}"))
    }

    /// An offer's review status in the page's language.
    fn offer_status_label(&self, status: &str) -> String {
        t_owned(&self.l.t, &format!("offer_status.{status}"))
    }
}

/// The company's coins and consents at a glance.
struct Figures {
    /// Coins it can still promise.
    balance: i64,
    /// Coins held in escrow for consents not yet disclosed to.
    reserved: i64,
    /// Offer rewards paid out to citizens: how many, how many coins.
    paid: (i64, i64),
    /// (status, label, count) for every consent status.
    consents: Vec<(&'static str, String, i64)>,
}

/// A predicate of the catalogue as the offer form shows it: a box to tick and its parameters.
struct PredicateChoice {
    name: &'static str,
    question: String,
    params: Vec<ParamInput>,
}

struct ParamInput {
    name: &'static str,
    label: String,
    /// `number`, `text` or `select`.
    input: &'static str,
    min: i64,
    max: i64,
    options: Vec<(&'static str, String)>,
}

fn predicate_choices(t: &super::i18n::Messages<'_>, lang: Lang) -> Vec<PredicateChoice> {
    catalogue()
        .iter()
        .map(|spec| PredicateChoice {
            name: spec.name,
            question: if lang == Lang::Ja { spec.ja } else { spec.en }.to_owned(),
            params: spec
                .params
                .iter()
                .map(|p| {
                    let (input, min, max, options) = match p.kind {
                        ParamType::Integer { min, max } => ("number", min, max, Vec::new()),
                        ParamType::Text { .. } => ("text", 0, 0, Vec::new()),
                        ParamType::Choice { options } => {
                            let section = if p.name == "category" { "category" } else { "merchant" };
                            let labelled = options
                                .iter()
                                .map(|o| (*o, t_owned(t, &format!("{section}.{o}"))))
                                .collect();
                            ("select", 0, 0, labelled)
                        }
                    };
                    ParamInput {
                        name: p.name,
                        label: t_owned(t, &format!("predicate_param.{}", p.name)),
                        input,
                        min,
                        max,
                        options,
                    }
                })
                .collect(),
        })
        .collect()
}

async fn dashboard_page(
    ctx: &PortalContext,
    company_id: String,
    new_secret: Option<String>,
    error: Option<(String, String)>,
    created: bool,
) -> Result<HttpResponse, ApiError> {
    let now = crate::clock::now();
    let ((company, decisions, list, counts, runs), (coins, paid, by_status, months)) = ctx
        .state
        .db(move |conn, _| {
            let page = (
                companies::get(conn, &company_id)?,
                companies::decisions(conn, &company_id)?,
                offers::for_company(conn, &company_id, offers::MAX_PAGE)?,
                consents::counts_for_company(conn, &company_id)?,
                run::list(conn, Some(&company_id), 20)?,
            );
            let figures = (
                funding::company_coins(conn, &company_id, 1)?,
                funding::reservation_totals(conn, &company_id)?,
                consents::status_counts_for_company(conn, &company_id)?,
                oversight::monthly(conn, Some(&company_id), now, crate::evidence::DASHBOARD_MONTHS)?,
            );
            Ok::<_, ApiError>((page, figures))
        })
        .await?;
    let offers = list
        .into_iter()
        .map(|offer| {
            let (consents, live, disclosures) = counts.get(&offer.id).copied().unwrap_or_default();
            OfferRow {
                offer,
                consents,
                live,
                disclosures,
            }
        })
        .collect();
    let t = ctx.t();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = DashboardPage {
        l: Layout::of(ctx),
        company,
        decisions,
        offers,
        new_secret,
        error,
        purposes: PURPOSES
            .iter()
            .map(|p| (p.code, if ctx.lang == Lang::Ja { p.label_ja } else { p.label_en }))
            .collect(),
        categories: CATEGORIES
            .iter()
            .map(|c| (c.name, t_owned(&t, &format!("category.{}", c.name))))
            .collect(),
        predicates: predicate_choices(&t, ctx.lang),
        dimensions: DIMENSIONS
            .iter()
            .map(|d| (d.name, t_owned(&t, &format!("statistics.{}", d.name))))
            .collect(),
        measures: MEASURES
            .iter()
            .map(|m| (m.name, t_owned(&t, &format!("statistics.{}", m.name))))
            .collect(),
        runs,
        created,
        figures: Figures {
            balance: coins.balance,
            reserved: coins.reserved,
            paid: paid.get("paid").copied().unwrap_or_default(),
            consents: ["active", "paused", "revoked", "expired"]
                .into_iter()
                .map(|s| {
                    (
                        s,
                        t_owned(&t, &format!("consents.status_{s}")),
                        by_status.get(s).copied().unwrap_or(0),
                    )
                })
                .collect(),
        },
        charts: vec![activity_chart(&t, &months)],
    };
    Ok(render(ctx, status, &page))
}

/// Consents given and disclosures per month, from the log.
fn activity_chart(t: &Messages<'_>, months: &[MonthCounts]) -> super::charts::Chart {
    let series = [Action::ConsentGranted, Action::DataDisclosed];
    super::charts::stacked(
        "chart-activity",
        t_owned(t, "company.chart_activity"),
        t_owned(t, "oversight.month"),
        super::charts::in_palette(&series.map(|a| t_owned(t, &format!("oversight.{}", a.as_str().replace('.', "_"))))),
        months
            .iter()
            .map(|m| {
                let values = series
                    .iter()
                    .map(|a| m.counts.get(a.as_str()).copied().unwrap_or(0))
                    .collect();
                (m.month.clone(), values)
            })
            .collect(),
    )
}

pub async fn dashboard(
    ctx: PortalContext,
    query: actix_web::web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let Some(id) = company_id(&ctx).await? else {
        return Ok(ctx.redirect("/company/signin").finish());
    };
    let created = query.get("notice").is_some_and(|n| n == "offer_created");
    dashboard_page(&ctx, id, None, None, created).await
}

pub async fn rotate_secret(ctx: PortalContext, form: Form<CsrfOnly>) -> Result<HttpResponse, ApiError> {
    if !ctx.csrf_matches(&form.csrf_token) {
        return Ok(csrf_refused(&ctx));
    }
    let Some(id) = company_id(&ctx).await? else {
        return Ok(ctx.redirect("/company/signin").finish());
    };
    let now = crate::clock::now();
    let company = id.clone();
    let rotated = ctx
        .state
        .db(move |conn, _| Ok::<_, ApiError>(companies::rotate_secret(conn, &company, now)))
        .await?;
    let creds = match rotated {
        Ok(creds) => creds,
        Err(ConsentError::CompanyNotApproved) => {
            return Ok(error_page(
                &ctx,
                StatusCode::FORBIDDEN,
                "error.forbidden_title",
                "company.secret_by_operator",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    // Every session from before the rotation has ended; this one signs in again with the new secret.
    let mut page = dashboard_page(&ctx, id.clone(), Some(creds.client_secret), None, false).await?;
    page.add_cookie(&session_cookie(&ctx, &id, Some(companies::first_second_after(now)))?)
        .map_err(ApiError::internal)?;
    Ok(page)
}

pub async fn create_offer(ctx: PortalContext, form: Form<Vec<(String, String)>>) -> Result<HttpResponse, ApiError> {
    let pairs = form.into_inner();
    let one = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if !ctx.csrf_matches(&one("csrf_token")) {
        return Ok(csrf_refused(&ctx));
    }
    let Some(id) = company_id(&ctx).await? else {
        return Ok(ctx.redirect("/company/signin").finish());
    };
    let number = |name: &str| one(name).trim().parse::<i64>().unwrap_or(-1);
    let to_i32 = |v: i64| i32::try_from(v).unwrap_or(-1);
    let all = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let kind = Some(one("kind"))
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| "records".into());
    // Each ticked predicate with its parameters (`p.<predicate>.<param>`); numbers are sent as
    // numbers, anything else as text, and the catalogue's validation says what is wrong.
    let predicates = all("predicate")
        .into_iter()
        .map(|name| {
            let prefix = format!("p.{name}.");
            let params = pairs
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|param| (param.to_owned(), v.trim())))
                .map(|(param, v)| {
                    let value = v
                        .parse::<i64>()
                        .map_or_else(|_| serde_json::Value::from(v), serde_json::Value::from);
                    (param, value)
                })
                .collect();
            Predicate { name, params }
        })
        .collect();
    let new_offer = NewOffer {
        title: one("title"),
        description: one("description"),
        purpose: one("purpose"),
        categories: if kind == "records" {
            all("categories")
        } else {
            Vec::new()
        },
        predicates: (kind == "predicates").then_some(predicates),
        statistics: (kind == "statistics").then(|| StatisticsSpec {
            dimensions: all("dimensions"),
            measures: all("measures"),
        }),
        kind: Some(kind),
        data_range_days: Some(to_i32(number("data_range_days"))),
        access: one("access"),
        max_fetches_per_day: to_i32(number("max_fetches_per_day")),
        retention_days: to_i32(number("retention_days")),
        consent_days: to_i32(number("consent_days")),
        reward_coins: number("reward_coins"),
    };
    let now = crate::clock::now();
    let company = id.clone();
    let result = match proposal(new_offer) {
        Ok(proposal) => {
            ctx.state
                .db(move |conn, _| Ok::<_, ApiError>(offers::propose(conn, &company, &proposal, now)))
                .await?
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(ctx.redirect("/company?notice=offer_created").finish()),
        Err(ConsentError::Invalid { field, message }) => {
            dashboard_page(&ctx, id, None, Some((field.to_owned(), message)), false).await
        }
        Err(ConsentError::CompanyNotApproved) => {
            let message = t_owned(&ctx.t(), "company.not_approved");
            dashboard_page(&ctx, id, None, Some(("status".into(), message)), false).await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use infobank_crypto::token::PREVIOUS_KEY_VERIFIES_TOKENS_FOR;

    #[test]
    fn no_token_outlives_the_grace_of_a_rotated_signing_key() {
        assert!(super::SESSION <= PREVIOUS_KEY_VERIFIES_TOKENS_FOR);
        assert!(crate::auth::ACCESS_TOKEN_TTL <= PREVIOUS_KEY_VERIFIES_TOKENS_FOR);
    }
}
