//! The portal: server-rendered pages (askama) that work without JavaScript.

mod coins;
pub mod context;
mod forms;
pub mod i18n;
mod mydata;
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
