//! No text infobank stores may contain U+0000: PostgreSQL's `text` cannot hold it, so an id or
//! cursor carrying one would otherwise reach the database and fail there as a 500. A request
//! whose path or query decodes to a NUL is refused up front with 400 `invalid_request`; bodies
//! are checked by their validators, and `error::database_error` catches whatever slips past.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError as _};

use crate::error::ApiError;

/// `%00` anywhere in the path or query string (a raw NUL cannot be in a request line at all).
fn has_encoded_nul(path_and_query: &str) -> bool {
    path_and_query.as_bytes().windows(3).any(|w| w == b"%00")
}

pub async fn refuse_nul(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let uri = req.uri();
    let target = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    if has_encoded_nul(target) {
        let response =
            ApiError::bad_request("invalid_request", "the path or query contains a NUL character").error_response();
        return Ok(req.into_response(response));
    }
    next.call(req).await.map(ServiceResponse::map_into_boxed_body)
}

#[cfg(test)]
mod tests {
    use super::has_encoded_nul;

    #[test]
    fn finds_an_encoded_nul_in_path_or_query_only_as_a_whole_escape() {
        assert!(has_encoded_nul("/api/v1/me/records/%00"));
        assert!(has_encoded_nul("/api/v1/me/coins?before=a%00b"));
        assert!(!has_encoded_nul("/api/v1/me/coins?before=%2500"));
        assert!(!has_encoded_nul("/api/v1/me/records/0100"));
    }
}
