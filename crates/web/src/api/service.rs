//! Service endpoints for load balancers, monitoring and token verifiers.

use actix_web::web::Data;
use actix_web::{HttpResponse, Responder};
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, description = "process is up")))]
pub async fn healthz() -> impl Responder {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database is reachable and every migration is applied.
#[utoipa::path(get, path = "/readyz", tag = "service", responses(
    (status = 200, description = "ready to serve"),
    (status = 503, description = "database unreachable or not migrated", body = crate::error::Problem),
))]
pub async fn readyz(state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    let migrated = state
        .db(|conn, _| {
            // The database's own words stay in the log: a public endpoint names no host or path.
            infobank_db::is_fully_migrated(conn).map_err(|e| {
                tracing::warn!(error = %e, "readiness check failed");
                ApiError::unavailable("not_ready", "the database cannot be read")
            })
        })
        .await?;
    if migrated {
        Ok(HttpResponse::Ok().json(json!({ "status": "ready" })))
    } else {
        Err(ApiError::unavailable("not_ready", "database migrations are pending"))
    }
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = state.metrics.render().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}

/// The public keys that verify access tokens, consent receipts and the audit log's tree heads.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "service", responses((status = 200, description = "JSON Web Key Set")))]
pub async fn jwks(state: Data<AppState>) -> impl Responder {
    // Token and receipt keys (the current one first, then those a rotation kept), then the
    // audit log's tree-head key.
    let mut keys = state.tokens.jwks_keys();
    keys.push(state.log_signer.jwk());
    let keys = json!({ "keys": keys });
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(keys)
}
