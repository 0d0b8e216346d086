//! The OpenAPI 3 document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;

struct BearerSchemes;

impl Modify for BearerSchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for role in ["citizen", "operator", "regulator", "company"] {
            components.add_security_scheme(
                role,
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .description(Some(if role == "company" {
                            "company access token from POST /api/v1/oauth/token (client credentials)".to_owned()
                        } else {
                            format!("access token from POST /api/v1/auth/login, role {role}")
                        }))
                        .build(),
                ),
            );
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "infobank", description = "Consent-based information bank: the public API."),
    paths(
        api::service::healthz,
        api::service::readyz,
        api::service::metrics,
        api::service::jwks,
        api::accounts::sign_up,
        api::accounts::me,
        api::session::login,
        api::audit::signed_tree_head,
        api::audit::entries,
        api::audit::inclusion,
        api::audit::consistency,
        api::audit::get_checkpoint,
        api::audit::acknowledge,
        api::vault::categories,
        api::vault::create,
        api::vault::list,
        api::vault::get,
        api::vault::update,
        api::vault::delete,
        api::vault::import_records,
        api::vault::export,
        api::vault::delete_me,
        api::coins::reward_policy,
        api::coins::wallet,
        api::coins::redeem_coins,
        api::companies::apply,
        api::companies::list,
        api::companies::me,
        api::companies::rotate_secret,
        api::companies::decide,
        api::companies::token,
        api::offers::propose,
        api::offers::list,
        api::offers::preview,
        api::offers::pending,
        api::offers::review,
        api::consents::accept,
        api::consents::mine,
        api::consents::one,
        api::consents::change,
        api::consents::my_disclosures,
        api::consents::held,
        api::consents::data,
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError)),
    modifiers(&BearerSchemes),
)]
pub struct ApiDoc;
