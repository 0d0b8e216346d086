//! Partner companies: applying, the operator's decisions, client credentials and the token
//! endpoint (OAuth 2.0 client credentials, RFC 6749 §4.4).

use actix_web::http::header;
use actix_web::web::{Data, Form, Json, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine as _;
use chrono::NaiveDate;
use infobank_consent::companies::{self, Application, Company as CompanyRecord, CompanyStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{ACCESS_TOKEN_TTL, Authenticated, COMPANY_AUDIENCE, COMPANY_ROLE, Company, Operator};
use crate::error::ApiError;
use crate::optional_json::OptionalJson;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityCertification {
    /// `ISMS` (ISO/IEC 27001) or `PMARK` (Privacy Mark).
    pub kind: String,
    pub id: String,
    /// YYYY-MM-DD; must be in the future.
    pub expires_on: NaiveDate,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyApplication {
    pub legal_name: String,
    /// Japan's 13-digit corporate number (法人番号), check digit verified.
    #[schema(example = "7000012050002")]
    pub corporate_number: String,
    pub contact_email: String,
    /// An https:// URL.
    pub privacy_policy_url: String,
    pub security_certification: SecurityCertification,
}

#[derive(Serialize, ToSchema)]
pub struct Applied {
    pub id: String,
    pub status: String,
    pub client_id: String,
    /// Shown this once; store it now. Only its hash is kept.
    pub client_secret: String,
}

/// Apply as a partner company. The credentials work once the operator approves the company.
#[utoipa::path(post, path = "/api/v1/companies", tag = "companies", request_body = CompanyApplication, responses(
    (status = 201, body = Applied),
    (status = 409, description = "corporate_number_taken", body = crate::error::Problem),
    (status = 422, description = "validation_failed (corporate_number check digit, https URL, expired certification, …)", body = crate::error::Problem),
))]
pub async fn apply(state: Data<AppState>, body: Json<CompanyApplication>) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let app = Application {
        legal_name: b.legal_name,
        corporate_number: b.corporate_number,
        contact_email: b.contact_email,
        privacy_policy_url: b.privacy_policy_url,
        certification_kind: b.security_certification.kind,
        certification_id: b.security_certification.id,
        certification_expires_on: b.security_certification.expires_on,
    };
    let now = crate::clock::now();
    let (company, creds) = state.db(move |conn, _| companies::apply(conn, &app, now)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(Applied {
            id: company.id,
            status: company.status.as_str().to_owned(),
            client_id: creds.client_id,
            client_secret: creds.client_secret,
        }))
}

/// A company as listed.
#[derive(Serialize, ToSchema)]
pub struct CompanyView {
    pub id: String,
    pub legal_name: String,
    pub corporate_number: String,
    pub privacy_policy_url: String,
    /// `applied`, `approved`, `rejected`, `suspended` or `revoked` (operators and the company itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub security_certification: Option<serde_json::Value>,
}

fn view(c: CompanyRecord, full: bool) -> CompanyView {
    CompanyView {
        id: c.id,
        legal_name: c.legal_name,
        corporate_number: c.corporate_number,
        privacy_policy_url: c.privacy_policy_url,
        status: full.then(|| c.status.as_str().to_owned()),
        contact_email: full.then_some(c.contact_email),
        security_certification: full.then(|| serde_json::json!(c.security_certification)),
    }
}

#[derive(Deserialize, IntoParams)]
pub struct CompanyQuery {
    /// Operators only: one status.
    pub status: Option<String>,
    /// The last id of the previous page.
    pub after: Option<String>,
}

/// Approved companies (public). With an operator token: all companies, with their status.
#[utoipa::path(get, path = "/api/v1/companies", tag = "companies", params(CompanyQuery), responses((status = 200, body = Vec<CompanyView>)))]
pub async fn list(
    state: Data<AppState>,
    operator: Option<Authenticated<Operator>>,
    query: Query<CompanyQuery>,
) -> Result<Json<Vec<CompanyView>>, ApiError> {
    let CompanyQuery { status, after } = query.into_inner();
    let full = operator.is_some();
    let status = match (full, status) {
        (false, _) => Some(CompanyStatus::Approved),
        (true, None) => None,
        (true, Some(s)) => {
            Some(CompanyStatus::parse(&s).ok_or_else(|| ApiError::bad_request("invalid_query", "unknown status"))?)
        }
    };
    let list = state
        .db(move |conn, _| companies::list(conn, status, after.as_deref(), 200))
        .await?;
    Ok(Json(list.into_iter().map(|c| view(c, full)).collect()))
}

/// The calling company itself, with its status.
#[utoipa::path(get, path = "/api/v1/companies/me", tag = "companies", security(("company" = [])), responses((status = 200, body = CompanyView)))]
pub async fn me(state: Data<AppState>, who: Authenticated<Company>) -> Result<Json<CompanyView>, ApiError> {
    let company = state.db(move |conn, _| companies::get(conn, &who.account_id)).await?;
    Ok(Json(view(company, true)))
}

#[derive(Serialize, ToSchema)]
pub struct CompanyCoinsView {
    /// Coins the company can still promise as offer rewards.
    pub balance: i64,
    /// Coins held in escrow for consents not yet disclosed to.
    pub reserved: i64,
    /// Offer rewards paid out to citizens: coins, and how many payouts.
    pub rewards_paid: i64,
    pub payouts: i64,
}

/// The company's coins: what it can still promise, what sits in escrow, what it has paid.
#[utoipa::path(get, path = "/api/v1/companies/me/coins", tag = "companies", security(("company" = [])), responses(
    (status = 200, body = CompanyCoinsView),
    (status = 401, body = crate::error::Problem),
))]
pub async fn my_coins(state: Data<AppState>, who: Authenticated<Company>) -> Result<Json<CompanyCoinsView>, ApiError> {
    let (coins, totals) = state
        .db(move |conn, _| {
            Ok::<_, ApiError>((
                infobank_coins::funding::company_coins(conn, &who.account_id, 1)?,
                infobank_coins::funding::reservation_totals(conn, &who.account_id)?,
            ))
        })
        .await?;
    let (payouts, rewards_paid) = totals.get("paid").copied().unwrap_or_default();
    Ok(Json(CompanyCoinsView {
        balance: coins.balance,
        reserved: coins.reserved,
        rewards_paid,
        payouts,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct NewSecret {
    pub client_id: String,
    /// Shown this once; the previous secret stops working now.
    pub client_secret: String,
}

/// Rotate the client secret: the old one, and every access token and company-portal session
/// issued before now, stop working (this token too: request a new one with the new secret). Not
/// while the company is suspended, rejected or revoked (the operator issues new credentials then).
#[utoipa::path(post, path = "/api/v1/companies/me/secret", tag = "companies", security(("company" = [])), responses(
    (status = 200, body = NewSecret),
    (status = 403, description = "company_not_approved: suspended, rejected or revoked", body = crate::error::Problem),
))]
pub async fn rotate_secret(state: Data<AppState>, who: Authenticated<Company>) -> Result<HttpResponse, ApiError> {
    let now = crate::clock::now();
    let creds = state
        .db(move |conn, _| companies::rotate_secret(conn, &who.account_id, now))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(NewSecret {
            client_id: creds.client_id,
            client_secret: creds.client_secret,
        }))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Why; required for every decision but approval.
    pub reason: Option<String>,
}

/// The operator decides: `approve`, `reject`, `suspend` or `revoke` (a suspended company is
/// approved again with `approve`).
#[utoipa::path(post, path = "/api/v1/operator/companies/{id}/{decision}", tag = "companies", request_body = Reason, security(("operator" = [])),
    params(("id" = String, Path), ("decision" = String, Path, description = "approve, reject, suspend or revoke")),
    responses(
        (status = 200, body = CompanyView),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "invalid_transition", body = crate::error::Problem),
        (status = 422, description = "validation_failed: reason required", body = crate::error::Problem),
    ))]
pub async fn decide(
    state: Data<AppState>,
    who: Authenticated<Operator>,
    path: Path<(String, String)>,
    body: OptionalJson<Reason>,
) -> Result<Json<CompanyView>, ApiError> {
    let (id, decision) = path.into_inner();
    let to = match decision.as_str() {
        "approve" => CompanyStatus::Approved,
        "reject" => CompanyStatus::Rejected,
        "suspend" => CompanyStatus::Suspended,
        "revoke" => CompanyStatus::Revoked,
        _ => return Err(ApiError::not_found()),
    };
    let reason = body.0.and_then(|b| b.reason);
    let now = crate::clock::now();
    let company = state
        .db(move |conn, _| companies::decide(conn, &id, to, reason.as_deref(), &who.account_id, now))
        .await?;
    Ok(Json(view(company, true)))
}

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `client_credentials`.
    pub grant_type: String,
}

#[derive(Serialize, ToSchema)]
pub struct CompanyToken {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
}

/// `Authorization: Basic base64(client_id:client_secret)` (RFC 6749 §2.3.1).
fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    // A NUL can be in no stored id or secret (and PostgreSQL text refuses it).
    let text = String::from_utf8(decoded).ok().filter(|t| !t.contains('\0'))?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// A company access token for approved companies (client credentials grant).
#[utoipa::path(post, path = "/api/v1/oauth/token", tag = "companies",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = CompanyToken),
        (status = 400, description = "unsupported_grant_type", body = crate::error::Problem),
        (status = 401, description = "invalid_client", body = crate::error::Problem),
        (status = 403, description = "company_not_approved", body = crate::error::Problem),
        (status = 429, description = "rate_limited, with Retry-After", body = crate::error::Problem),
    ))]
pub async fn token(
    state: Data<AppState>,
    req: HttpRequest,
    form: Form<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    crate::limits::enforce(state.limits.token.as_ref(), &crate::limits::client_address(&req))?;
    if form.grant_type != "client_credentials" {
        return Err(ApiError::bad_request(
            "unsupported_grant_type",
            "only grant_type=client_credentials is supported",
        ));
    }
    let (client_id, secret) = basic_credentials(&req).ok_or_else(|| {
        ApiError::unauthenticated(
            "invalid_client",
            "send Authorization: Basic base64(client_id:client_secret)",
        )
    })?;
    let company = state
        .db(move |conn, _| companies::authenticate_client(conn, &client_id, &secret))
        .await?;
    let issued = state
        .tokens
        .issue(
            &company.id,
            COMPANY_ROLE,
            COMPANY_AUDIENCE,
            ACCESS_TOKEN_TTL,
            crate::auth::company_token_time(company.sessions_valid_from(), crate::clock::now()),
        )
        .map_err(ApiError::internal)?;
    // RFC 6749 §5.1: token responses are not to be cached.
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(CompanyToken {
            access_token: issued.token,
            token_type: "Bearer",
            expires_in: issued.expires_in,
        }))
}
