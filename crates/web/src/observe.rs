//! Per-request observability: a request id (taken from `X-Request-Id` when it is a sane token,
//! else a new UUIDv7), a tracing span, one log line per request and the metrics. Logs carry the
//! method, the route pattern, the status and the latency: never bodies, query strings, cookies
//! or tokens.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;
use tracing::Instrument as _;

use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn incoming_request_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let sane = !value.is_empty()
        && value.len() <= 64
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    sane.then(|| value.to_owned())
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = incoming_request_id(&req).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = req.method().to_string();
    let state = req.app_data::<Data<AppState>>().cloned();
    let span = tracing::info_span!("request", id = %request_id, method = %method);

    let mut res = next.call(req).instrument(span.clone()).await?;

    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    if let Some(state) = state {
        state.metrics.observe(&method, &route, status, seconds);
    }
    span.in_scope(|| tracing::info!(route = %route, status, latency_ms = seconds * 1000.0, "handled"));
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}
