//! Consents and disclosures: the citizen's side (accept, list, pause, resume, revoke, see every
//! disclosure) and the company's (the consents it holds, and the disclosure itself).

use actix_web::HttpResponse;
use actix_web::web::{Data, Json, Path, Query};
use infobank_consent::consents::{self, Change, Consent, HeldConsent};
use infobank_consent::disclosure::{self, Attesting, Disclosed, DisclosureRecord, disclose};
use infobank_consent::notices::{self, Notice};
use infobank_consent::refusals;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Authenticated, Citizen, Company};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Accept {
    pub offer_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct Granted {
    #[schema(value_type = Object)]
    pub consent: Consent,
    /// A compact JWS (EdDSA; the key is in /.well-known/jwks.json) over the consent record.
    pub receipt: String,
}

/// Accept an offer: a consent and its signed receipt.
#[utoipa::path(post, path = "/api/v1/me/consents", tag = "consents", request_body = Accept, security(("citizen" = [])), responses(
    (status = 201, body = Granted),
    (status = 409, description = "offer_not_open, already_consented or offer_not_funded", body = crate::error::Problem),
))]
pub async fn accept(
    state: Data<AppState>,
    who: Authenticated<Citizen>,
    body: Json<Accept>,
) -> Result<HttpResponse, ApiError> {
    let offer_id = body.into_inner().offer_id;
    let now = crate::clock::now();
    let tokens = state.tokens.clone();
    let consent = state
        .db(move |conn, keys| consents::accept(conn, keys, &tokens, &who.account_id, &offer_id, now))
        .await?;
    Ok(HttpResponse::Created().json(Granted {
        receipt: consent.receipt.clone(),
        consent,
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct Page {
    /// The last id of the previous page.
    pub before: Option<String>,
}

/// The citizen's consents, newest first (200 per page).
#[utoipa::path(get, path = "/api/v1/me/consents", tag = "consents", params(Page), security(("citizen" = [])), responses((status = 200, body = Vec<Object>)))]
pub async fn mine(
    state: Data<AppState>,
    who: Authenticated<Citizen>,
    page: Query<Page>,
) -> Result<Json<Vec<Consent>>, ApiError> {
    let before = page.into_inner().before;
    let list = state
        .db(move |conn, _| consents::for_citizen(conn, &who.account_id, before.as_deref(), consents::MAX_PAGE))
        .await?;
    Ok(Json(list))
}

/// One of the citizen's consents.
#[utoipa::path(get, path = "/api/v1/me/consents/{id}", tag = "consents", params(("id" = String, Path)), security(("citizen" = [])), responses(
    (status = 200, body = Object),
    (status = 404, body = crate::error::Problem),
))]
pub async fn one(
    state: Data<AppState>,
    who: Authenticated<Citizen>,
    id: Path<String>,
) -> Result<Json<Consent>, ApiError> {
    let id = id.into_inner();
    Ok(Json(
        state
            .db(move |conn, _| consents::get_for_citizen(conn, &who.account_id, &id))
            .await?,
    ))
}

/// Pause, resume or revoke a consent; each issues a new receipt. Effective on the company's very
/// next request.
#[utoipa::path(post, path = "/api/v1/me/consents/{id}/{action}", tag = "consents", security(("citizen" = [])),
    params(("id" = String, Path), ("action" = String, Path, description = "pause, resume or revoke")),
    responses(
        (status = 200, body = Granted),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "invalid_transition", body = crate::error::Problem),
    ))]
pub async fn change(
    state: Data<AppState>,
    who: Authenticated<Citizen>,
    path: Path<(String, String)>,
) -> Result<Json<Granted>, ApiError> {
    let (id, action) = path.into_inner();
    let what = match action.as_str() {
        "pause" => Change::Pause,
        "resume" => Change::Resume,
        "revoke" => Change::Revoke,
        _ => return Err(ApiError::not_found()),
    };
    let now = crate::clock::now();
    let tokens = state.tokens.clone();
    let consent = state
        .db(move |conn, _| consents::change(conn, &tokens, &who.account_id, &id, what, now))
        .await?;
    Ok(Json(Granted {
        receipt: consent.receipt.clone(),
        consent,
    }))
}

/// Who received what of the citizen's data, when, under which consent. Newest first.
#[utoipa::path(get, path = "/api/v1/me/disclosures", tag = "consents", params(Page), security(("citizen" = [])), responses((status = 200, body = Vec<Object>)))]
pub async fn my_disclosures(
    state: Data<AppState>,
    who: Authenticated<Citizen>,
    page: Query<Page>,
) -> Result<Json<Vec<DisclosureRecord>>, ApiError> {
    let before = page.into_inner().before;
    let list = state
        .db(move |conn, keys| {
            disclosure::for_citizen(conn, keys, &who.account_id, before.as_deref(), disclosure::MAX_PAGE)
        })
        .await?;
    Ok(Json(list))
}

#[derive(Serialize, ToSchema)]
pub struct Notices {
    /// How many are not marked read.
    pub unread: i64,
    /// Newest first (up to 200): `{id, kind, consent_id, company_name, offer_title, expires_at,
    /// created_at, read}`; `kind` is `consent_expiring`, `company_suspended`, `company_revoked` or
    /// `consent_review`.
    #[schema(value_type = Vec<Object>)]
    pub notices: Vec<Notice>,
}

/// What the bank told the citizen on its own: consents about to end, companies suspended or
/// revoked, and the reminder every 90 days of a consent still running.
#[utoipa::path(get, path = "/api/v1/me/notices", tag = "consents", security(("citizen" = [])), responses((status = 200, body = Notices)))]
pub async fn my_notices(state: Data<AppState>, who: Authenticated<Citizen>) -> Result<Json<Notices>, ApiError> {
    let (unread, notices) = state
        .db(move |conn, _| {
            Ok::<_, ApiError>((
                notices::unread(conn, &who.account_id)?,
                notices::for_citizen(conn, &who.account_id, 200)?,
            ))
        })
        .await?;
    Ok(Json(Notices { unread, notices }))
}

/// The consents the company holds; each citizen appears only as the company's pseudonym. A
/// suspended or revoked company is refused.
#[utoipa::path(get, path = "/api/v1/consents", tag = "consents", params(Page), security(("company" = [])), responses(
    (status = 200, body = Vec<Object>),
    (status = 403, description = "company_suspended, company_not_approved", body = crate::error::Problem),
))]
pub async fn held(
    state: Data<AppState>,
    who: Authenticated<Company>,
    page: Query<Page>,
) -> Result<Json<Vec<HeldConsent>>, ApiError> {
    let before = page.into_inner().before;
    let list = state
        .db(move |conn, _| consents::for_company(conn, &who.account_id, before.as_deref(), consents::MAX_PAGE))
        .await?;
    Ok(Json(list))
}

/// The disclosure, if the consent is live: for a records offer exactly its categories within its
/// data range; for a predicate offer only the answers (`true`, `false`, or `null` when the
/// citizen holds no record to decide) with a signed attestation (`attestation`, a compact JWS
/// verifiable with /.well-known/jwks.json).
#[utoipa::path(get, path = "/api/v1/consents/{id}/data", tag = "consents", params(("id" = String, Path)), security(("company" = [])), responses(
    (status = 200, body = Object),
    (status = 409, description = "statistics_only: a statistics offer is run with POST /api/v1/offers/{id}/statistics", body = crate::error::Problem),
    (status = 403, description = "consent_revoked, consent_paused, consent_expired, company_suspended, quota_exceeded, …", body = crate::error::Problem),
    (status = 404, description = "a consent this company does not hold", body = crate::error::Problem),
    (status = 429, description = "rate_limited (per company), with Retry-After", body = crate::error::Problem),
))]
pub async fn data(
    state: Data<AppState>,
    who: Authenticated<Company>,
    id: Path<String>,
) -> Result<HttpResponse, ApiError> {
    // Per company, before any database work: the limit exists to shield the database.
    crate::limits::enforce(state.limits.disclosure.as_ref(), &who.account_id)?;
    let id = id.into_inner();
    let now = crate::clock::now();
    let tokens = state.tokens.clone();
    let ttl = chrono::Duration::seconds(state.disclose_less.attestation_ttl_seconds);
    let disclosed: Disclosed = state
        .db(move |conn, keys| {
            let attesting = Attesting { signer: &tokens, ttl };
            let result = disclose(conn, keys, attesting, &who.account_id, &id, now);
            if let Err(refused) = &result
                && let Some(reason) = refusals::reason_of(refused)
                && let Err(e) = refusals::count(conn, &who.account_id, reason, now)
            {
                // The company gets its refusal either way; only the regulator's counter is short.
                tracing::warn!(error = %e, reason, "could not count a refused disclosure");
            }
            result
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(disclosed))
}
