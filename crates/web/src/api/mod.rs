//! The JSON API, one module per resource. Handlers are thin: authenticate (extractor), validate,
//! one domain call on the blocking pool, map the result.

pub mod accounts;
pub mod service;
pub mod session;

use actix_web::web;

use crate::routing::resource;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/healthz").route(web::get().to(service::healthz)))
        .service(resource("/readyz").route(web::get().to(service::readyz)))
        .service(resource("/metrics").route(web::get().to(service::metrics)))
        .service(resource("/.well-known/jwks.json").route(web::get().to(service::jwks)))
        .service(resource("/api/v1/citizens").route(web::post().to(accounts::sign_up)))
        .service(resource("/api/v1/me").route(web::get().to(accounts::me)))
        .service(resource("/api/v1/auth/login").route(web::post().to(session::login)));
}
