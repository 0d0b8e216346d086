//! The OpenAPI 3 document, generated from the handlers' annotations.

use std::collections::BTreeMap;

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder};
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

/// The error answers every handler can give without saying so in its annotation, added where
/// they apply: the extractors' (401/403 for a token, 400/413/415/422 for a body, 400 for a
/// query or path), 404 for an id in the path, 503 when no database connection is free. Every
/// status from 400 up is a problem+json body (RFC 9457), which is what the server sends.
struct ProblemResponses;

const PROBLEM_TYPE: &str = "application/problem+json";

fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(PROBLEM_TYPE, Content::new(Some(Ref::from_schema_name("Problem"))))
            .build(),
    )
}

fn add_problems(operation: &mut Operation, path: &str) {
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let params = operation.parameters.as_deref().unwrap_or_default();
    let has_query = params.iter().any(|p| matches!(p.parameter_in, ParameterIn::Query));
    let has_path = params.iter().any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let has_body = operation.request_body.is_some();
    let responses = &mut operation.responses.responses;
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| problem(description));
    };
    if secured {
        add("401", "unauthenticated: no, an invalid or an expired access token");
        add("403", "wrong_role: a token of another role");
    }
    if has_body {
        add("400", "malformed_json or malformed_form: the body cannot be read");
        add("413", "payload_too_large");
        add(
            "415",
            "unsupported_media_type: the body is not of the documented content type",
        );
        add("422", "validation_failed: the fields named in `errors`");
    }
    if has_query || has_path {
        add("400", "invalid_query or invalid_path");
    }
    if has_path {
        add("404", "not_found");
    }
    if path != "/healthz" && path != "/metrics" && path != "/.well-known/jwks.json" {
        add(
            "503",
            "database_busy: no database connection free; retry after Retry-After seconds",
        );
    }
    // Error answers the annotations declared as JSON are problem+json too.
    for (status, response) in responses.iter_mut() {
        let is_error = status.parse::<u16>().is_ok_and(|code| code >= 400);
        if let (true, RefOr::T(response)) = (is_error, response)
            && let Some(content) = response.content.shift_remove("application/json")
        {
            response.content.insert(PROBLEM_TYPE.to_owned(), content);
        }
    }
}

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut seen_ids: BTreeMap<String, usize> = BTreeMap::new();
        for (path, item) in &mut openapi.paths.paths {
            for operation in [&mut item.get, &mut item.post, &mut item.put, &mut item.delete]
                .into_iter()
                .flatten()
            {
                add_problems(operation, path);
                // Handlers in different modules share names (`list`, `me`); operation ids must
                // be unique, so a repeated one is prefixed with the operation's tag.
                if let Some(id) = operation.operation_id.clone() {
                    *seen_ids.entry(id).or_default() += 1;
                }
            }
        }
        for item in openapi.paths.paths.values_mut() {
            for operation in [&mut item.get, &mut item.post, &mut item.put, &mut item.delete]
                .into_iter()
                .flatten()
            {
                let tag = operation.tags.as_ref().and_then(|t| t.first()).cloned();
                if let (Some(id), Some(tag)) = (operation.operation_id.as_mut(), tag)
                    && seen_ids.get(id.as_str()).is_some_and(|n| *n > 1)
                {
                    *id = format!("{tag}_{id}");
                }
            }
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
        api::audit::reconciliation,
        api::audit::statistics,
        api::audit::evidence,
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
        api::companies::my_coins,
        api::companies::decide,
        api::companies::token,
        api::offers::propose,
        api::offers::list,
        api::offers::preview,
        api::offers::pending,
        api::offers::review,
        api::offers::decline,
        api::offers::undo_decline,
        api::disclose_less::predicates,
        api::disclose_less::statistics_catalogue,
        api::disclose_less::run_statistics,
        api::disclose_less::runs,
        api::disclose_less::counted_in,
        api::consents::accept,
        api::consents::mine,
        api::consents::one,
        api::consents::change,
        api::consents::my_disclosures,
        api::consents::my_notices,
        api::consents::held,
        api::consents::data,
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError)),
    modifiers(&BearerSchemes, &ProblemResponses),
)]
pub struct ApiDoc;
