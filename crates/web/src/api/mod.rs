//! The JSON API, one module per resource. Handlers are thin: authenticate (extractor), validate,
//! one domain call on the blocking pool, map the result.

pub mod accounts;
pub mod audit;
pub mod coins;
pub mod companies;
pub mod consents;
pub mod offers;
pub mod service;
pub mod session;
pub mod vault;

use actix_web::web;

use crate::routing::resource;

/// `record_json_limit`: the body limit of the routes that carry a record's data (the
/// configurable `INFOBANK_JSON_LIMIT`); every other route keeps the app's small limit.
pub fn routes(cfg: &mut web::ServiceConfig, record_json_limit: usize) {
    let record_body = || crate::error::json_config(record_json_limit);
    cfg.service(resource("/healthz").route(web::get().to(service::healthz)))
        .service(resource("/readyz").route(web::get().to(service::readyz)))
        .service(resource("/metrics").route(web::get().to(service::metrics)))
        .service(resource("/.well-known/jwks.json").route(web::get().to(service::jwks)))
        .service(resource("/api/v1/citizens").route(web::post().to(accounts::sign_up)))
        .service(
            resource("/api/v1/me")
                .route(web::get().to(accounts::me))
                .route(web::delete().to(vault::delete_me)),
        )
        .service(resource("/api/v1/categories").route(web::get().to(vault::categories)))
        .service(
            resource("/api/v1/me/records")
                .app_data(record_body())
                .route(web::get().to(vault::list))
                .route(web::post().to(vault::create)),
        )
        .service(resource("/api/v1/me/records/import").route(web::post().to(vault::import_records)))
        .service(
            resource("/api/v1/me/records/{id}")
                .app_data(record_body())
                .route(web::get().to(vault::get))
                .route(web::put().to(vault::update))
                .route(web::delete().to(vault::delete)),
        )
        .service(resource("/api/v1/me/export").route(web::get().to(vault::export)))
        .service(
            resource("/api/v1/companies")
                .route(web::get().to(companies::list))
                .route(web::post().to(companies::apply)),
        )
        .service(resource("/api/v1/companies/me").route(web::get().to(companies::me)))
        .service(resource("/api/v1/companies/me/secret").route(web::post().to(companies::rotate_secret)))
        .service(resource("/api/v1/operator/companies/{id}/{decision}").route(web::post().to(companies::decide)))
        .service(resource("/api/v1/oauth/token").route(web::post().to(companies::token)))
        .service(
            resource("/api/v1/offers")
                .route(web::get().to(offers::list))
                .route(web::post().to(offers::propose)),
        )
        .service(resource("/api/v1/offers/{id}/preview").route(web::get().to(offers::preview)))
        .service(resource("/api/v1/operator/offers").route(web::get().to(offers::pending)))
        .service(resource("/api/v1/operator/offers/{id}/{decision}").route(web::post().to(offers::review)))
        .service(
            resource("/api/v1/me/consents")
                .route(web::get().to(consents::mine))
                .route(web::post().to(consents::accept)),
        )
        .service(resource("/api/v1/me/consents/{id}").route(web::get().to(consents::one)))
        .service(resource("/api/v1/me/consents/{id}/{action}").route(web::post().to(consents::change)))
        .service(resource("/api/v1/me/disclosures").route(web::get().to(consents::my_disclosures)))
        .service(resource("/api/v1/consents").route(web::get().to(consents::held)))
        .service(resource("/api/v1/consents/{id}/data").route(web::get().to(consents::data)))
        .service(resource("/api/v1/reward-policy").route(web::get().to(coins::reward_policy)))
        .service(resource("/api/v1/me/coins").route(web::get().to(coins::wallet)))
        .service(resource("/api/v1/me/coins/redeem").route(web::post().to(coins::redeem_coins)))
        .service(resource("/api/v1/auth/login").route(web::post().to(session::login)))
        .service(resource("/api/v1/audit/sth").route(web::get().to(audit::signed_tree_head)))
        .service(resource("/api/v1/audit/entries").route(web::get().to(audit::entries)))
        .service(resource("/api/v1/audit/proof/inclusion").route(web::get().to(audit::inclusion)))
        .service(resource("/api/v1/audit/proof/consistency").route(web::get().to(audit::consistency)))
        .service(
            resource("/api/v1/audit/checkpoint")
                .route(web::get().to(audit::get_checkpoint))
                .route(web::post().to(audit::acknowledge)),
        );
}
