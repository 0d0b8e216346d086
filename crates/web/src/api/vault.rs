//! The vault: data categories (public), the citizen's own records, export, and account deletion.

use actix_web::HttpRequest;
use actix_web::HttpResponse;
use actix_web::web::{Data, Json, Path, Payload, Query};
use infobank_coins::RewardPolicy;
use infobank_vault::categories::{CATEGORIES, Category};
use infobank_vault::import::{ImportBody, ImportOutcome, MAX_IMPORT_BYTES};
use infobank_vault::{Record, import, records};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Authenticated, Citizen};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Categories {
    /// Each category with its fields (name, type, constraints, unit), sensitivity
    /// (`normal`, `sensitive`, `special`), DPV term, cardinality, and what entrusting it pays under
    /// the current reward policy: `coin_weight` per unit, `records_per_unit`, `monthly_cap_units`.
    #[schema(value_type = Vec<Object>)]
    pub categories: Vec<Value>,
    /// The reward policy version the coin figures come from.
    pub reward_policy_version: Option<i32>,
}

fn with_reward(category: &Category, policy: &RewardPolicy) -> Value {
    let mut value = serde_json::to_value(category).unwrap_or(Value::Null);
    if let (Some(obj), Some(rule)) = (value.as_object_mut(), policy.categories.get(category.name)) {
        obj.insert("coin_weight".into(), rule.weight.into());
        obj.insert("records_per_unit".into(), rule.records_per_unit.into());
        obj.insert("monthly_cap_units".into(), rule.monthly_cap_units.into());
    }
    value
}

/// Every data category a citizen can entrust, with what entrusting it pays.
#[utoipa::path(get, path = "/api/v1/categories", tag = "vault", responses((status = 200, body = Categories)))]
pub async fn categories(state: Data<AppState>) -> Result<Json<Categories>, ApiError> {
    let published = state.db(|conn, _| infobank_coins::policy::latest(conn)).await?;
    let (version, policy) = match published {
        Some(p) => (Some(p.version), p.policy),
        None => (None, RewardPolicy::default()),
    };
    Ok(Json(Categories {
        categories: CATEGORIES.iter().map(|c| with_reward(c, &policy)).collect(),
        reward_policy_version: version,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRecord {
    /// A category name from `GET /api/v1/categories`.
    pub category: String,
    /// The record's fields, as the category defines them.
    #[schema(value_type = Object)]
    pub data: Value,
}

/// A record as returned.
#[derive(Serialize, ToSchema)]
pub struct RecordView {
    pub id: String,
    pub category: String,
    #[schema(value_type = Object)]
    pub data: Value,
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Record> for RecordView {
    fn from(r: Record) -> Self {
        Self {
            id: r.id,
            category: r.category,
            data: r.data,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Entrust a record.
#[utoipa::path(post, path = "/api/v1/me/records", tag = "vault", request_body = NewRecord, security(("citizen" = [])), responses(
    (status = 201, body = RecordView),
    (status = 409, description = "single_record_exists", body = crate::error::Problem),
    (status = 422, description = "validation_failed, unknown_category or full_card_number_forbidden; fields named", body = crate::error::Problem),
))]
pub async fn create(
    state: Data<AppState>,
    who: Authenticated<Citizen>,
    body: Json<NewRecord>,
) -> Result<HttpResponse, ApiError> {
    let now = crate::clock::now();
    let NewRecord { category, data } = body.into_inner();
    let record = state
        .db(move |conn, keys| records::create(conn, keys, &who.account_id, &category, &data, now))
        .await?;
    Ok(HttpResponse::Created().json(RecordView::from(record)))
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    pub category: Option<String>,
    /// The last record id of the previous page.
    pub after: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct RecordPage {
    pub records: Vec<RecordView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<String>,
}

/// The signed-in citizen's records, oldest first, paginated.
#[utoipa::path(get, path = "/api/v1/me/records", tag = "vault", params(ListQuery), security(("citizen" = [])), responses(
    (status = 200, body = RecordPage),
    (status = 422, description = "unknown_category", body = crate::error::Problem),
))]
pub async fn list(
    state: Data<AppState>,
    who: Authenticated<Citizen>,
    query: Query<ListQuery>,
) -> Result<Json<RecordPage>, ApiError> {
    let ListQuery { category, after, limit } = query.into_inner();
    let limit = limit.unwrap_or(50);
    if !(1..=records::MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "limit must be between 1 and 200",
        ));
    }
    let page = state
        .db(move |conn, keys| {
            records::list(
                conn,
                keys,
                &who.account_id,
                category.as_deref(),
                after.as_deref(),
                limit,
            )
        })
        .await?;
    let next_after = (page.len() as i64 == limit)
        .then(|| page.last().map(|r| r.id.clone()))
        .flatten();
    Ok(Json(RecordPage {
        records: page.into_iter().map(RecordView::from).collect(),
        next_after,
    }))
}

/// One of the citizen's records (another citizen's id answers 404).
#[utoipa::path(get, path = "/api/v1/me/records/{id}", tag = "vault", security(("citizen" = [])), responses((status = 200, body = RecordView), (status = 404, body = crate::error::Problem)))]
pub async fn get(
    state: Data<AppState>,
    who: Authenticated<Citizen>,
    id: Path<String>,
) -> Result<Json<RecordView>, ApiError> {
    let id = id.into_inner();
    let record = state
        .db(move |conn, keys| records::get(conn, keys, &who.account_id, &id))
        .await?;
    Ok(Json(record.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRecord {
    #[schema(value_type = Object)]
    pub data: Value,
}

/// Replace a record's data (its version goes up by one).
#[utoipa::path(put, path = "/api/v1/me/records/{id}", tag = "vault", request_body = UpdateRecord, security(("citizen" = [])), responses((status = 200, body = RecordView), (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn update(
    state: Data<AppState>,
    who: Authenticated<Citizen>,
    id: Path<String>,
    body: Json<UpdateRecord>,
) -> Result<Json<RecordView>, ApiError> {
    let now = crate::clock::now();
    let id = id.into_inner();
    let data = body.into_inner().data;
    let record = state
        .db(move |conn, keys| records::update(conn, keys, &who.account_id, &id, &data, now))
        .await?;
    Ok(Json(record.into()))
}

/// Delete a record.
#[utoipa::path(delete, path = "/api/v1/me/records/{id}", tag = "vault", security(("citizen" = [])), responses((status = 204), (status = 404, body = crate::error::Problem)))]
pub async fn delete(
    state: Data<AppState>,
    who: Authenticated<Citizen>,
    id: Path<String>,
) -> Result<HttpResponse, ApiError> {
    let now = crate::clock::now();
    let id = id.into_inner();
    state
        .db(move |conn, _| records::delete(conn, &who.account_id, &id, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Everything held about the citizen, as one JSON document.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "vault", security(("citizen" = [])), responses((status = 200, description = "the export document", body = Object)))]
pub async fn export(state: Data<AppState>, who: Authenticated<Citizen>) -> Result<HttpResponse, ApiError> {
    let now = crate::clock::now();
    let document = state
        .db(move |conn, keys| infobank_consent::account::export(conn, keys, &who.account_id, now))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Disposition", "attachment; filename=\"infobank-export.json\""))
        .insert_header(("Cache-Control", "no-store"))
        .json(document))
}

/// Delete the account: live consents revoked, records deleted, data key destroyed, email free again.
#[utoipa::path(delete, path = "/api/v1/me", tag = "vault", security(("citizen" = [])), responses(
    (status = 204),
    (status = 401, description = "token_revoked: the account is already deleted (its token is still unexpired)", body = crate::error::Problem),
))]
pub async fn delete_me(state: Data<AppState>, who: Authenticated<Citizen>) -> Result<HttpResponse, ApiError> {
    let now = crate::clock::now();
    let tokens = state.tokens.clone();
    state
        .db(move |conn, _| infobank_consent::account::delete_account(conn, &tokens, &who.account_id, now))
        .await
        .map_err(|e| match e.code {
            "not_found" => ApiError::not_found().detail("no such account; it has been deleted"),
            _ => e,
        })?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, IntoParams)]
pub struct ImportQuery {
    /// Only `payment_history` today.
    pub category: String,
}

#[derive(Serialize, ToSchema)]
pub struct ImportResult {
    pub imported: usize,
    /// `{row, code, message}` for every row not stored; `row` counts data rows from 1.
    #[schema(value_type = Vec<Object>)]
    pub rejected: Vec<infobank_vault::import::RejectedRow>,
}

/// Import payment history as CSV (header `date,merchant,amount,currency,method,merchant_category`)
/// or a JSON array, up to 10 MiB. Good rows are stored, bad rows reported; a bad row never loses
/// the good ones, and a transaction already held is reported as a duplicate.
#[utoipa::path(post, path = "/api/v1/me/records/import", tag = "vault", params(ImportQuery), security(("citizen" = [])),
    request_body(content = String, content_type = "text/csv", description = "CSV with a header row, or a JSON array (application/json)"),
    responses(
        (status = 200, body = ImportResult),
        (status = 400, description = "malformed_import (unreadable file, wrong header)", body = crate::error::Problem),
        (status = 413, description = "payload_too_large (over 10 MiB)", body = crate::error::Problem),
        (status = 415, description = "unsupported_media_type", body = crate::error::Problem),
        (status = 422, description = "not_importable or unknown_category", body = crate::error::Problem),
    ))]
pub async fn import_records(
    state: Data<AppState>,
    who: Authenticated<Citizen>,
    req: HttpRequest,
    query: Query<ImportQuery>,
    payload: Payload,
) -> Result<Json<ImportResult>, ApiError> {
    let now = crate::clock::now();
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
        .unwrap_or_default();
    let is_csv = match content_type.as_str() {
        "text/csv" => true,
        "application/json" => false,
        _ => {
            return Err(ApiError::new(
                actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
            )
            .detail("send text/csv or application/json"));
        }
    };
    let body = match payload.to_bytes_limited(MAX_IMPORT_BYTES).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            return Err(ApiError::bad_request(
                "malformed_body",
                "the request body could not be read",
            ));
        }
        Err(_) => {
            return Err(ApiError::payload_too_large(
                "an import is at most 10 MiB; split the file",
            ));
        }
    };
    let category = query.into_inner().category;
    let outcome: ImportOutcome = state
        .db(move |conn, keys| {
            let body = if is_csv {
                ImportBody::Csv(&body)
            } else {
                ImportBody::Json(&body)
            };
            import::import(conn, keys, &who.account_id, &category, body, now)
        })
        .await?;
    Ok(Json(ImportResult {
        imported: outcome.imported,
        rejected: outcome.rejected,
    }))
}
