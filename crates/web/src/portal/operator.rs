//! The operator's vetting pages: the companies queue (approve, reject, suspend, revoke, each
//! with a reason) and the offers' ethics review queue.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Form, Path, Query};
use askama::Template;
use infobank_accounts::Role;
use infobank_consent::ConsentError;
use infobank_consent::companies::{self, CompanyStatus, Decision};
use infobank_consent::offers;
use serde::Deserialize;

use super::consents::{OfferCard, card};
use super::context::PortalContext;
use super::forms::t_owned;
use super::pages::{CsrfOnly, Layout, csrf_refused, error_page, refuse, render};
use crate::error::ApiError;

struct CompanyRow {
    id: String,
    legal_name: String,
    corporate_number: String,
    certification: String,
    privacy_policy_url: String,
    status: &'static str,
    decisions: Vec<Decision>,
    actions: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "operator_companies.html")]
struct CompaniesPage<'a> {
    l: Layout<'a>,
    rows: Vec<CompanyRow>,
    error: Option<&'static str>,
    /// Credentials just issued by a reset: (company id, client id, client secret), shown once.
    issued: Option<(String, String, String)>,
}

impl CompaniesPage<'_> {
    /// A company status in the page's language.
    fn status_label(&self, status: &str) -> String {
        t_owned(&self.l.t, &format!("company_status.{status}"))
    }
}

fn actions(status: CompanyStatus) -> Vec<&'static str> {
    match status {
        CompanyStatus::Applied => vec!["approve", "reject"],
        CompanyStatus::Approved => vec!["suspend", "revoke"],
        CompanyStatus::Suspended => vec!["approve", "revoke"],
        CompanyStatus::Rejected | CompanyStatus::Revoked => vec![],
    }
}

async fn companies_page(
    ctx: &PortalContext,
    error: Option<&'static str>,
    issued: Option<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    if ctx.account_id_as(Role::Operator).is_none() {
        return Ok(refuse(ctx));
    }
    let list = ctx
        .state
        .db(|conn, _| {
            let mut all = Vec::new();
            // The queue first: applications waiting for a decision.
            for status in [
                CompanyStatus::Applied,
                CompanyStatus::Suspended,
                CompanyStatus::Approved,
                CompanyStatus::Rejected,
                CompanyStatus::Revoked,
            ] {
                for c in companies::list(conn, Some(status), None, 200)? {
                    let decisions = companies::decisions(conn, &c.id)?;
                    all.push((c, decisions));
                }
            }
            Ok::<_, ConsentError>(all)
        })
        .await?;
    let rows = list
        .into_iter()
        .map(|(c, decisions)| CompanyRow {
            actions: actions(c.status),
            status: c.status.as_str(),
            certification: format!(
                "{} {} ({})",
                c.security_certification.kind, c.security_certification.id, c.security_certification.expires_on
            ),
            id: c.id,
            legal_name: c.legal_name,
            corporate_number: c.corporate_number,
            privacy_policy_url: c.privacy_policy_url,
            decisions,
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(
        ctx,
        status,
        &CompaniesPage {
            l: Layout::of(ctx),
            rows,
            error,
            issued,
        },
    ))
}

pub async fn companies_index(ctx: PortalContext) -> Result<HttpResponse, ApiError> {
    companies_page(&ctx, None, None).await
}

/// The operator issues new client credentials to a company, whatever its status (after a leak,
/// or when a suspended company may not rotate its own): the old secret, its tokens and portal
/// sessions end at once; the new secret is shown this once, to be handed over out of band.
pub async fn reset_secret(
    ctx: PortalContext,
    path: Path<String>,
    form: Form<CsrfOnly>,
) -> Result<HttpResponse, ApiError> {
    if !ctx.csrf_matches(&form.csrf_token) {
        return Ok(csrf_refused(&ctx));
    }
    let Some(operator) = ctx.account_id_as(Role::Operator) else {
        return Ok(refuse(&ctx));
    };
    let id = path.into_inner();
    let company = id.clone();
    let now = crate::clock::now();
    let creds = ctx
        .state
        .db(move |conn, _| companies::reset_secret(conn, &company, &operator, now))
        .await?;
    companies_page(&ctx, None, Some((id, creds.client_id, creds.client_secret))).await
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    reason: String,
}

pub async fn decide_company(
    ctx: PortalContext,
    path: Path<(String, String)>,
    form: Form<DecisionForm>,
) -> Result<HttpResponse, ApiError> {
    if !ctx.csrf_matches(&form.csrf_token) {
        return Ok(csrf_refused(&ctx));
    }
    let Some(operator) = ctx.account_id_as(Role::Operator) else {
        return Ok(refuse(&ctx));
    };
    let (id, decision) = path.into_inner();
    let to = match decision.as_str() {
        "approve" => CompanyStatus::Approved,
        "reject" => CompanyStatus::Rejected,
        "suspend" => CompanyStatus::Suspended,
        "revoke" => CompanyStatus::Revoked,
        _ => {
            return Ok(error_page(
                &ctx,
                StatusCode::NOT_FOUND,
                "error.not_found_title",
                "error.not_found",
            ));
        }
    };
    let reason = form.into_inner().reason;
    let now = crate::clock::now();
    let result = ctx
        .state
        .db(move |conn, _| Ok::<_, ApiError>(companies::decide(conn, &id, to, Some(&reason), &operator, now)))
        .await?;
    match result {
        Ok(_) => Ok(ctx.redirect("/operator/companies").finish()),
        Err(ConsentError::ReasonRequired) => companies_page(&ctx, Some("operator.reason_required"), None).await,
        Err(ConsentError::InvalidTransition { .. } | ConsentError::Invalid { .. }) => {
            companies_page(&ctx, Some("operator.not_possible"), None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "operator_offers.html")]
struct OffersPage<'a> {
    l: Layout<'a>,
    offers: Vec<OfferCard>,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct ErrorQuery {
    error: Option<String>,
}

/// The ethics review queue.
pub async fn offers_queue(ctx: PortalContext, query: Query<ErrorQuery>) -> Result<HttpResponse, ApiError> {
    if ctx.account_id_as(Role::Operator).is_none() {
        return Ok(refuse(&ctx));
    }
    let list = ctx
        .state
        .db(|conn, _| {
            offers::pending(conn, offers::MAX_PAGE)?
                .into_iter()
                .map(|o| {
                    let name = companies::get(conn, &o.company_id)?.legal_name;
                    Ok::<_, ConsentError>((o, name))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let offers = list.into_iter().map(|(o, company)| card(&ctx, o, company)).collect();
    let error = match query.error.as_deref() {
        Some("reason") => Some("operator.reason_required"),
        Some("done") => Some("operator.not_possible"),
        _ => None,
    };
    Ok(render(
        &ctx,
        StatusCode::OK,
        &OffersPage {
            l: Layout::of(&ctx),
            offers,
            error,
        },
    ))
}

pub async fn review_offer(
    ctx: PortalContext,
    path: Path<(String, String)>,
    form: Form<DecisionForm>,
) -> Result<HttpResponse, ApiError> {
    if !ctx.csrf_matches(&form.csrf_token) {
        return Ok(csrf_refused(&ctx));
    }
    let Some(operator) = ctx.account_id_as(Role::Operator) else {
        return Ok(refuse(&ctx));
    };
    let (id, decision) = path.into_inner();
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return Ok(error_page(
                &ctx,
                StatusCode::NOT_FOUND,
                "error.not_found_title",
                "error.not_found",
            ));
        }
    };
    let reason = form.into_inner().reason;
    let now = crate::clock::now();
    let result = ctx
        .state
        .db(move |conn, _| Ok::<_, ApiError>(offers::review(conn, &id, approve, Some(&reason), &operator, now)))
        .await?;
    match result {
        Ok(_) => Ok(ctx.redirect("/operator/offers").finish()),
        Err(ConsentError::ReasonRequired) => Ok(ctx.redirect("/operator/offers?error=reason").finish()),
        Err(ConsentError::InvalidTransition { .. } | ConsentError::Invalid { .. } | ConsentError::NotFound) => {
            Ok(ctx.redirect("/operator/offers?error=done").finish())
        }
        Err(e) => Err(e.into()),
    }
}
