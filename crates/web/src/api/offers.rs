//! Offers: companies propose, the operator reviews, citizens see the open ones and preview
//! exactly what accepting would share.

use std::collections::BTreeMap;

use actix_web::HttpResponse;
use actix_web::web::{Data, Json, Path};
use infobank_consent::ConsentError;
use infobank_consent::disclosure::{DisclosedRecord, preview as preview_offer};
use infobank_consent::offers::{self, Ask, Offer, Proposal};
use infobank_consent::predicates::{Answer, Predicate};
use infobank_consent::purposes::purpose;
use infobank_consent::statistics::catalogue::StatisticsSpec;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::companies::Reason;
use crate::auth::{Authenticated, Citizen, Company, Operator};
use crate::error::ApiError;
use crate::optional_json::OptionalJson;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOffer {
    pub title: String,
    pub description: String,
    /// `personalised_offers`, `service_improvement`, `research_statistics`,
    /// `product_development`, `credit_assessment` or `insurance_underwriting`.
    pub purpose: String,
    /// `records` (the default: the categories' records), `predicates` (only yes/no answers) or
    /// `statistics` (only k-anonymous cells).
    #[serde(default)]
    pub kind: Option<String>,
    /// For `records`: category names from `GET /api/v1/categories`. Leave out for the other
    /// kinds (what they read follows from what they ask).
    #[serde(default)]
    pub categories: Vec<String>,
    /// For `predicates`: from `GET /api/v1/predicates`, e.g.
    /// `[{"name": "age_at_least", "params": {"years": 20}}]`.
    #[schema(value_type = Option<Vec<Object>>)]
    pub predicates: Option<Vec<Predicate>>,
    /// For `statistics`: `{"dimensions": [...], "measures": [...]}` from
    /// `GET /api/v1/statistics/catalogue`.
    #[schema(value_type = Option<Object>)]
    pub statistics: Option<StatisticsSpec>,
    /// For series: only the last N days are disclosed or counted (1 to 3650). Required for
    /// `records` and `statistics`; a predicate offer takes the longest `days` of its predicates.
    pub data_range_days: Option<i32>,
    /// `one_time` or `periodic`.
    pub access: String,
    /// 1 for one_time; 1 to 1440 for periodic.
    pub max_fetches_per_day: i32,
    pub retention_days: i32,
    /// At most 365.
    pub consent_days: i32,
    /// Coins per consent, paid from the company's coin account at the first disclosure.
    pub reward_coins: i64,
}

/// The proposal a body describes: its kind and exactly the fields that kind takes.
pub fn proposal(b: NewOffer) -> Result<Proposal, ConsentError> {
    let not_for =
        |field: &'static str, kind: &str| ConsentError::invalid(field, format!("a {kind} offer does not take {field}"));
    let kind = b.kind.as_deref().unwrap_or("records");
    let ask = match kind {
        "records" => {
            if b.predicates.is_some() {
                return Err(not_for("predicates", kind));
            }
            if b.statistics.is_some() {
                return Err(not_for("statistics", kind));
            }
            Ask::Records
        }
        "predicates" => {
            if b.statistics.is_some() {
                return Err(not_for("statistics", kind));
            }
            Ask::Predicates {
                predicates: b
                    .predicates
                    .ok_or_else(|| ConsentError::invalid("predicates", "a predicates offer lists its predicates"))?,
            }
        }
        "statistics" => {
            if b.predicates.is_some() {
                return Err(not_for("predicates", kind));
            }
            Ask::Statistics {
                statistics: b.statistics.ok_or_else(|| {
                    ConsentError::invalid("statistics", "a statistics offer names its dimensions and measures")
                })?,
            }
        }
        _ => {
            return Err(ConsentError::invalid(
                "kind",
                "must be records, predicates or statistics",
            ));
        }
    };
    let data_range_days = match (&ask, b.data_range_days) {
        // Replaced by the predicates' own windows.
        (Ask::Predicates { .. }, _) => 0,
        (_, Some(days)) => days,
        (_, None) => return Err(ConsentError::invalid("data_range_days", "required: 1 to 3650")),
    };
    Ok(Proposal {
        title: b.title,
        description: b.description,
        purpose: b.purpose,
        categories: b.categories,
        ask,
        data_range_days,
        access: b.access,
        max_fetches_per_day: b.max_fetches_per_day,
        retention_days: b.retention_days,
        consent_days: b.consent_days,
        reward_coins: b.reward_coins,
    })
}

/// An offer as shown to companies, operators and citizens.
#[derive(Serialize, ToSchema)]
pub struct OfferView {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub offer: serde_json::Value,
    /// The purpose in plain words, English and Japanese.
    pub purpose_label: PurposeLabel,
}

#[derive(Serialize, ToSchema)]
pub struct PurposeLabel {
    pub en: &'static str,
    pub ja: &'static str,
    pub dpv: &'static str,
}

pub fn offer_view(offer: Offer) -> OfferView {
    let p = purpose(&offer.purpose);
    OfferView {
        purpose_label: PurposeLabel {
            en: p.map_or("", |p| p.label_en),
            ja: p.map_or("", |p| p.label_ja),
            dpv: p.map_or("", |p| p.dpv),
        },
        offer: serde_json::to_value(offer).unwrap_or_default(),
    }
}

/// Propose an offer (approved companies); it waits for the operator's ethics review.
#[utoipa::path(post, path = "/api/v1/offers", tag = "offers", request_body = NewOffer, security(("company" = [])), responses(
    (status = 201, body = OfferView),
    (status = 403, description = "company_not_approved", body = crate::error::Problem),
    (status = 422, description = "validation_failed", body = crate::error::Problem),
))]
pub async fn propose(
    state: Data<AppState>,
    who: Authenticated<Company>,
    body: Json<NewOffer>,
) -> Result<HttpResponse, ApiError> {
    let proposal = proposal(body.into_inner())?;
    let now = crate::clock::now();
    let offer = state
        .db(move |conn, _| offers::propose(conn, &who.account_id, &proposal, now))
        .await?;
    Ok(HttpResponse::Created().json(offer_view(offer)))
}

/// With a company token: the company's own offers. With a citizen token: the open offers she has
/// not declined (the inbox). Newest first.
#[utoipa::path(get, path = "/api/v1/offers", tag = "offers", security(("company" = []), ("citizen" = [])), responses(
    (status = 200, body = Vec<OfferView>),
    (status = 401, body = crate::error::Problem),
))]
pub async fn list(
    state: Data<AppState>,
    company: Result<Authenticated<Company>, ApiError>,
    citizen: Result<Authenticated<Citizen>, ApiError>,
) -> Result<Json<Vec<OfferView>>, ApiError> {
    let list = match (company, citizen) {
        (Ok(c), _) => {
            state
                .db(move |conn, _| offers::for_company(conn, &c.account_id, 200))
                .await?
        }
        // A citizen's inbox: the open offers she has not declined.
        (Err(_), Ok(c)) => {
            state
                .db(move |conn, _| {
                    let declined = infobank_consent::declines::declined_ids(conn, &c.account_id)?;
                    let open = offers::open(conn, 200)?;
                    Ok::<_, ApiError>(open.into_iter().filter(|o| !declined.contains(&o.id)).collect())
                })
                .await?
        }
        // Neither role: say why as precisely as the two refusals allow (a staff token is the
        // wrong role for both; an expired company token is expired, not invalid).
        (Err(as_company), Err(as_citizen)) => {
            return Err(
                if as_citizen.code == "wrong_role" || as_company.code == "token_expired" {
                    as_company
                } else {
                    as_citizen
                },
            );
        }
    };
    Ok(Json(list.into_iter().map(offer_view).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct Preview {
    pub offer: OfferView,
    /// Per category of a records offer, exactly the records it would receive now (empty for
    /// predicate and statistics offers: they receive no record).
    #[schema(value_type = Object)]
    pub would_share: BTreeMap<String, Vec<DisclosedRecord>>,
    /// For a predicate offer: the answers it would receive now.
    #[schema(value_type = Option<Vec<Object>>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_answer: Option<Vec<Answer>>,
}

/// Before accepting: exactly what the offer would receive of the citizen's data now.
#[utoipa::path(get, path = "/api/v1/offers/{id}/preview", tag = "offers", params(("id" = String, Path)), security(("citizen" = [])), responses(
    (status = 200, body = Preview),
    (status = 404, description = "no such open offer", body = crate::error::Problem),
))]
pub async fn preview(
    state: Data<AppState>,
    who: Authenticated<Citizen>,
    id: Path<String>,
) -> Result<Json<Preview>, ApiError> {
    let id = id.into_inner();
    let now = crate::clock::now();
    let preview = state
        .db(move |conn, keys| preview_offer(conn, keys, &who.account_id, &id, now))
        .await?;
    Ok(Json(Preview {
        offer: offer_view(preview.offer),
        would_share: preview.would_share,
        would_answer: preview.would_answer,
    }))
}

/// The ethics review queue (operators).
#[utoipa::path(get, path = "/api/v1/operator/offers", tag = "offers", security(("operator" = [])), responses((status = 200, body = Vec<OfferView>)))]
pub async fn pending(state: Data<AppState>, _who: Authenticated<Operator>) -> Result<Json<Vec<OfferView>>, ApiError> {
    let list = state.db(|conn, _| offers::pending(conn, 200)).await?;
    Ok(Json(list.into_iter().map(offer_view).collect()))
}

/// The operator's ethics review: `approve` or `reject` (a reason is required to reject).
#[utoipa::path(post, path = "/api/v1/operator/offers/{id}/{decision}", tag = "offers", request_body = Reason, security(("operator" = [])),
    params(("id" = String, Path), ("decision" = String, Path, description = "approve or reject")),
    responses(
        (status = 200, body = OfferView),
        (status = 404, body = crate::error::Problem),
        (status = 409, description = "invalid_transition (already reviewed)", body = crate::error::Problem),
        (status = 422, description = "validation_failed: reason required", body = crate::error::Problem),
    ))]
pub async fn review(
    state: Data<AppState>,
    who: Authenticated<Operator>,
    path: Path<(String, String)>,
    body: OptionalJson<Reason>,
) -> Result<Json<OfferView>, ApiError> {
    let (id, decision) = path.into_inner();
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(ApiError::not_found()),
    };
    let reason = body.0.and_then(|b| b.reason);
    let now = crate::clock::now();
    let offer = state
        .db(move |conn, _| offers::review(conn, &id, approve, reason.as_deref(), &who.account_id, now))
        .await?;
    Ok(Json(offer_view(offer)))
}

#[derive(Serialize, ToSchema)]
pub struct Declined {
    pub offer_id: String,
    /// Whether the offer is declined now (out of the inbox).
    pub declined: bool,
}

/// Declines an open offer: it leaves the citizen's inbox until she undoes it. Logged
/// (`offer.declined`); declining again changes nothing. An offer that is not open is 404.
#[utoipa::path(post, path = "/api/v1/me/offers/{id}/decline", tag = "offers", security(("citizen" = [])), responses(
    (status = 200, body = Declined),
    (status = 404, description = "no open offer with this id", body = crate::error::Problem),
))]
pub async fn decline(
    state: Data<AppState>,
    who: Authenticated<Citizen>,
    id: Path<String>,
) -> Result<Json<Declined>, ApiError> {
    set_declined(state, who, id.into_inner(), true).await
}

/// Undoes a decline: the offer is back in the inbox (if still open). Logged
/// (`offer.decline_undone`); undoing what was not declined changes nothing.
#[utoipa::path(delete, path = "/api/v1/me/offers/{id}/decline", tag = "offers", security(("citizen" = [])), responses(
    (status = 200, body = Declined),
))]
pub async fn undo_decline(
    state: Data<AppState>,
    who: Authenticated<Citizen>,
    id: Path<String>,
) -> Result<Json<Declined>, ApiError> {
    set_declined(state, who, id.into_inner(), false).await
}

/// Declines the offer for the citizen, or undoes that: the two differ only in the domain call.
async fn set_declined(
    state: Data<AppState>,
    who: Authenticated<Citizen>,
    offer_id: String,
    declined: bool,
) -> Result<Json<Declined>, ApiError> {
    let change = if declined {
        infobank_consent::declines::decline
    } else {
        infobank_consent::declines::undo
    };
    let now = crate::clock::now();
    let offer = offer_id.clone();
    state
        .db(move |conn, _| change(conn, &who.account_id, &offer, now))
        .await?;
    Ok(Json(Declined { offer_id, declined }))
}
