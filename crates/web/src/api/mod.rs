//! The JSON API, one module per resource. Handlers are thin: authenticate (extractor), validate,
//! one domain call on the blocking pool, map the result.

pub mod accounts;
pub mod audit;
pub mod coins;
pub mod companies;
pub mod consents;
pub mod disclose_less;
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
    cfg.service(resource("/healthz").get(service::healthz))
        .service(resource("/readyz").get(service::readyz))
        .service(resource("/metrics").get(service::metrics))
        .service(resource("/.well-known/jwks.json").get(service::jwks))
        .service(resource("/api/v1/citizens").post(accounts::sign_up))
        .service(resource("/api/v1/me").get(accounts::me).delete(vault::delete_me))
        .service(resource("/api/v1/categories").get(vault::categories))
        .service(
            resource("/api/v1/me/records")
                .app_data(record_body())
                .get(vault::list)
                .post(vault::create),
        )
        .service(resource("/api/v1/me/records/import").post(vault::import_records))
        .service(
            resource("/api/v1/me/records/{id}")
                .app_data(record_body())
                .get(vault::get)
                .put(vault::update)
                .delete(vault::delete),
        )
        .service(resource("/api/v1/me/export").get(vault::export))
        .service(
            resource("/api/v1/companies")
                .get(companies::list)
                .post(companies::apply),
        )
        .service(resource("/api/v1/companies/me").get(companies::me))
        .service(resource("/api/v1/companies/me/secret").post(companies::rotate_secret))
        .service(resource("/api/v1/companies/me/coins").get(companies::my_coins))
        .service(resource("/api/v1/operator/companies/{id}/{decision}").post(companies::decide))
        .service(resource("/api/v1/oauth/token").post(companies::token))
        .service(resource("/api/v1/offers").get(offers::list).post(offers::propose))
        .service(resource("/api/v1/offers/{id}/preview").get(offers::preview))
        .service(
            resource("/api/v1/me/offers/{id}/decline")
                .post(offers::decline)
                .delete(offers::undo_decline),
        )
        .service(resource("/api/v1/offers/{id}/statistics").post(disclose_less::run_statistics))
        .service(resource("/api/v1/predicates").get(disclose_less::predicates))
        .service(resource("/api/v1/statistics/catalogue").get(disclose_less::statistics_catalogue))
        .service(resource("/api/v1/statistics/runs").get(disclose_less::runs))
        .service(resource("/api/v1/me/statistics-runs").get(disclose_less::counted_in))
        .service(resource("/api/v1/operator/offers").get(offers::pending))
        .service(resource("/api/v1/operator/offers/{id}/{decision}").post(offers::review))
        .service(
            resource("/api/v1/me/consents")
                .get(consents::mine)
                .post(consents::accept),
        )
        .service(resource("/api/v1/me/consents/{id}").get(consents::one))
        .service(resource("/api/v1/me/consents/{id}/{action}").post(consents::change))
        .service(resource("/api/v1/me/disclosures").get(consents::my_disclosures))
        .service(resource("/api/v1/me/notices").get(consents::my_notices))
        .service(resource("/api/v1/consents").get(consents::held))
        .service(resource("/api/v1/consents/{id}/data").get(consents::data))
        .service(resource("/api/v1/reward-policy").get(coins::reward_policy))
        .service(resource("/api/v1/me/coins").get(coins::wallet))
        .service(resource("/api/v1/me/coins/redeem").post(coins::redeem_coins))
        .service(resource("/api/v1/auth/login").post(session::login))
        .service(resource("/api/v1/audit/sth").get(audit::signed_tree_head))
        .service(resource("/api/v1/audit/entries").get(audit::entries))
        .service(resource("/api/v1/audit/reconciliation").get(audit::reconciliation))
        .service(resource("/api/v1/audit/statistics").get(audit::statistics))
        .service(resource("/api/v1/audit/evidence").get(audit::evidence))
        .service(resource("/api/v1/audit/proof/inclusion").get(audit::inclusion))
        .service(resource("/api/v1/audit/proof/consistency").get(audit::consistency))
        .service(
            resource("/api/v1/audit/checkpoint")
                .get(audit::get_checkpoint)
                .post(audit::acknowledge),
        );
}
