//! The portal: server-rendered pages (askama) that work without JavaScript.

mod coins;
mod company;
mod consents;
pub mod context;
mod forms;
pub mod i18n;
mod mydata;
mod operator;
mod pages;
mod regulator;

use actix_web::web;

use crate::routing::resource;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/").route(web::get().to(pages::index)))
        .service(
            resource("/signup")
                .route(web::get().to(pages::signup_form))
                .route(web::post().to(pages::signup_submit)),
        )
        .service(
            resource("/signin")
                .route(web::get().to(pages::signin_form))
                .route(web::post().to(pages::signin_submit)),
        )
        .service(resource("/signout").route(web::post().to(pages::signout)))
        .service(resource("/home").route(web::get().to(pages::home)))
        .service(resource("/data").route(web::get().to(mydata::index)))
        .service(resource("/data/export").route(web::get().to(mydata::export)))
        .service(
            resource("/data/import")
                .route(web::get().to(mydata::upload_page))
                .route(web::post().to(mydata::upload)),
        )
        .service(
            resource("/data/{category}")
                .route(web::get().to(mydata::show_category))
                .route(web::post().to(mydata::create)),
        )
        .service(resource("/data/{category}/{id}").route(web::post().to(mydata::update)))
        .service(resource("/data/{category}/{id}/edit").route(web::get().to(mydata::edit_form)))
        .service(resource("/data/{category}/{id}/delete").route(web::post().to(mydata::delete)))
        .service(
            resource("/account/delete")
                .route(web::get().to(mydata::delete_account_form))
                .route(web::post().to(mydata::delete_account)),
        )
        .service(resource("/offers").route(web::get().to(consents::inbox)))
        .service(resource("/offers/{id}").route(web::get().to(consents::show)))
        .service(resource("/offers/{id}/accept").route(web::post().to(consents::accept)))
        .service(resource("/consents").route(web::get().to(consents::dashboard)))
        .service(resource("/consents/{id}/receipt").route(web::get().to(consents::receipt)))
        .service(resource("/consents/{id}/{action}").route(web::post().to(consents::change)))
        .service(resource("/disclosures").route(web::get().to(consents::disclosures)))
        .service(resource("/operator/companies").route(web::get().to(operator::companies_index)))
        .service(resource("/operator/companies/{id}/{decision}").route(web::post().to(operator::decide_company)))
        .service(resource("/operator/offers").route(web::get().to(operator::offers_queue)))
        .service(resource("/operator/offers/{id}/{decision}").route(web::post().to(operator::review_offer)))
        .service(
            resource("/company/apply")
                .route(web::get().to(company::apply_form))
                .route(web::post().to(company::apply_submit)),
        )
        .service(
            resource("/company/signin")
                .route(web::get().to(company::signin_form))
                .route(web::post().to(company::signin_submit)),
        )
        .service(resource("/company/signout").route(web::post().to(company::signout)))
        .service(resource("/company").route(web::get().to(company::dashboard)))
        .service(resource("/company/secret").route(web::post().to(company::rotate_secret)))
        .service(resource("/company/offers").route(web::post().to(company::create_offer)))
        .service(resource("/coins").route(web::get().to(coins::index)))
        .service(resource("/coins/redeem").route(web::post().to(coins::redeem_submit)))
        .service(resource("/coins/policy").route(web::get().to(coins::policy_page)))
        .service(resource("/operator/coins").route(web::get().to(coins::operator_index)))
        .service(resource("/operator/coins/{company}").route(web::get().to(coins::operator_company)))
        .service(resource("/regulator/log").route(web::get().to(regulator::log_page)))
        .service(resource("/regulator/checkpoint").route(web::post().to(regulator::acknowledge)))
        .service(resource("/lang/{code}").route(web::get().to(pages::switch_language)))
        .service(resource("/static/portal.css").route(web::get().to(pages::stylesheet)));
}
