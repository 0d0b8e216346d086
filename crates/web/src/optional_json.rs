//! A JSON body that may be left out. actix's `Option<Json<T>>` turns *any* extractor failure
//! into `None`, so a malformed, oversized or mistyped body would pass as "no body"; here only a
//! request that carries no body at all is `None`, and a body that is there must be good JSON
//! (400, 413, 415 and 422 as for `Json<T>`).

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Json;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{LocalBoxFuture, ready};
use serde::de::DeserializeOwned;

pub struct OptionalJson<T>(pub Option<T>);

/// No content type, no transfer encoding and no (or a zero) content length: nothing was sent.
fn no_body(req: &HttpRequest) -> bool {
    let headers = req.headers();
    !headers.contains_key(header::CONTENT_TYPE)
        && !headers.contains_key(header::TRANSFER_ENCODING)
        && headers
            .get(header::CONTENT_LENGTH)
            .is_none_or(|length| length.as_bytes() == b"0")
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if no_body(req) {
            return Box::pin(ready(Ok(Self(None))));
        }
        let json = Json::<T>::from_request(req, payload);
        Box::pin(async move { json.await.map(|body| Self(Some(body.into_inner()))) })
    }
}
