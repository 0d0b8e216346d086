//! The portal: server-rendered pages (askama) that work without JavaScript.

mod charts;
mod coins;
mod company;
mod consents;
pub mod context;
mod disclose_less;
mod forms;
mod home;
pub mod i18n;
mod inbox;
mod mydata;
mod operator;
mod oversight;
mod pages;
mod regulator;

use actix_web::web;

use crate::routing::resource;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/").get(pages::index))
        .service(resource("/signup").get(pages::signup_form).post(pages::signup_submit))
        .service(resource("/signin").get(pages::signin_form).post(pages::signin_submit))
        .service(resource("/signout").post(pages::signout))
        .service(resource("/home").get(home::home))
        .service(resource("/inbox").get(inbox::index))
        .service(resource("/inbox/read").post(inbox::mark_read))
        .service(resource("/data").get(mydata::index))
        .service(resource("/data/export").get(mydata::export))
        .service(resource("/data/import").get(mydata::upload_page).post(mydata::upload))
        .service(
            resource("/data/{category}")
                .get(mydata::show_category)
                .post(mydata::create),
        )
        .service(resource("/data/{category}/{id}").post(mydata::update))
        .service(resource("/data/{category}/{id}/edit").get(mydata::edit_form))
        .service(resource("/data/{category}/{id}/delete").post(mydata::delete))
        .service(
            resource("/account/delete")
                .get(mydata::delete_account_form)
                .post(mydata::delete_account),
        )
        .service(resource("/offers").get(consents::inbox))
        .service(resource("/offers/{id}").get(consents::show))
        .service(resource("/offers/{id}/accept").post(consents::accept))
        .service(resource("/offers/{id}/{action}").post(consents::decline))
        .service(resource("/consents").get(consents::dashboard))
        .service(resource("/consents/{id}/receipt").get(consents::receipt))
        .service(resource("/consents/{id}/{action}").post(consents::change))
        .service(resource("/disclosures").get(consents::disclosures))
        .service(resource("/operator/companies").get(operator::companies_index))
        .service(resource("/operator/companies/{id}/secret").post(operator::reset_secret))
        .service(resource("/operator/companies/{id}/{decision}").post(operator::decide_company))
        .service(resource("/operator/offers").get(operator::offers_queue))
        .service(resource("/operator/offers/{id}/{decision}").post(operator::review_offer))
        .service(
            resource("/company/apply")
                .get(company::apply_form)
                .post(company::apply_submit),
        )
        .service(
            resource("/company/signin")
                .get(company::signin_form)
                .post(company::signin_submit),
        )
        .service(resource("/company/signout").post(company::signout))
        .service(resource("/company").get(company::dashboard))
        .service(resource("/company/secret").post(company::rotate_secret))
        .service(resource("/company/offers").post(company::create_offer))
        .service(resource("/coins").get(coins::index))
        .service(resource("/coins/redeem").post(coins::redeem_submit))
        .service(resource("/coins/policy").get(coins::policy_page))
        .service(resource("/operator/coins").get(coins::operator_index))
        .service(resource("/operator/coins/{company}").get(coins::operator_company))
        .service(resource("/regulator").get(oversight::dashboard))
        .service(resource("/regulator/evidence").get(oversight::evidence))
        .service(resource("/regulator/log").get(regulator::log_page))
        .service(resource("/regulator/reconciliation").get(regulator::reconciliation))
        .service(resource("/regulator/statistics").get(regulator::statistics))
        .service(resource("/regulator/checkpoint").post(regulator::acknowledge))
        .service(resource("/lang/{code}").get(pages::switch_language))
        .service(resource("/static/portal.css").get(pages::stylesheet));
}
