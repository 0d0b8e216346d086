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

/// The database is reachable and every migration is applied; with the audit queue's depth and
/// the age of its oldest leaf (the integration lag).
#[utoipa::path(get, path = "/readyz", tag = "service", responses(
    (status = 200, description = "ready to serve: `{status, audit_queue: {depth, oldest_age_ms}}`"),
    (status = 503, description = "database unreachable or not migrated", body = crate::error::Problem),
))]
pub async fn readyz(state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    let (migrated, queue) = state
        .db(|conn, _| {
            // The database's own words stay in the log: a public endpoint names no host or path.
            let unreadable = |e: &dyn std::fmt::Display| {
                tracing::warn!(error = %e, "readiness check failed");
                ApiError::unavailable("not_ready", "the database cannot be read")
            };
            let migrated = infobank_db::is_fully_migrated(conn).map_err(|e| unreadable(&e))?;
            let queue = if migrated {
                Some(infobank_audit::log::queue_state(conn).map_err(|e| unreadable(&e))?)
            } else {
                None
            };
            Ok::<_, ApiError>((migrated, queue))
        })
        .await?;
    if let (true, Some(queue)) = (migrated, queue) {
        let age_ms = queue_age(&queue).as_millis();
        Ok(HttpResponse::Ok().json(json!({
            "status": "ready",
            "audit_queue": { "depth": queue.depth, "oldest_age_ms": age_ms },
        })))
    } else {
        Err(ApiError::unavailable("not_ready", "database migrations are pending"))
    }
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    let queue = state.db(|conn, _| infobank_audit::log::queue_state(conn)).await?;
    state.metrics.set_queue(queue.depth, queue_age(&queue).as_secs_f64());
    if let Some(writer) = &state.group_writer {
        state.metrics.set_group_commit(writer.counts());
    }
    let text = state.metrics.render().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}

fn queue_age(queue: &infobank_audit::log::QueueState) -> std::time::Duration {
    queue
        .oldest
        .and_then(|oldest| (crate::clock::now() - oldest).to_std().ok())
        .unwrap_or_default()
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
