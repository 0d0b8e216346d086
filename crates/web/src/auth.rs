//! Bearer-token authentication, one extractor per role. Each role has its own JWT audience, so a
//! citizen's token is not a regulator's token even though one key signs both.
//!
//! A handler says who may call it by its argument type: `Authenticated<Citizen>`.

use std::future::{Ready, ready};
use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use chrono::Duration;
use infobank_accounts::Role;
use infobank_crypto::TokenError;

use crate::error::ApiError;
use crate::state::AppState;

/// Access tokens live 15 minutes.
pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(15);

pub fn audience(role: Role) -> &'static str {
    match role {
        Role::Citizen => "infobank:citizen",
        Role::Operator => "infobank:operator",
        Role::Regulator => "infobank:regulator",
    }
}

/// A company's access token (client credentials, `POST /api/v1/oauth/token`).
pub const COMPANY_AUDIENCE: &str = "infobank:company";
pub const COMPANY_ROLE: &str = "company";

/// Every audience a token may carry, to tell "wrong role" from "not a token of ours".
const AUDIENCES: [&str; 4] = [
    "infobank:citizen",
    "infobank:operator",
    "infobank:regulator",
    COMPANY_AUDIENCE,
];

pub trait RoleSpec {
    /// The `role` claim.
    const NAME: &'static str;
    const AUDIENCE: &'static str;
}

#[derive(Debug)]
pub struct Citizen;
#[derive(Debug)]
pub struct Operator;
#[derive(Debug)]
pub struct Regulator;
/// An approved partner company; `account_id` is the company id.
#[derive(Debug)]
pub struct Company;

impl RoleSpec for Citizen {
    const NAME: &'static str = "citizen";
    const AUDIENCE: &'static str = "infobank:citizen";
}
impl RoleSpec for Operator {
    const NAME: &'static str = "operator";
    const AUDIENCE: &'static str = "infobank:operator";
}
impl RoleSpec for Regulator {
    const NAME: &'static str = "regulator";
    const AUDIENCE: &'static str = "infobank:regulator";
}
impl RoleSpec for Company {
    const NAME: &'static str = COMPANY_ROLE;
    const AUDIENCE: &'static str = COMPANY_AUDIENCE;
}

/// Proof that the request carries a valid, unexpired token of role `R`.
#[derive(Debug)]
pub struct Authenticated<R> {
    pub account_id: String,
    _role: PhantomData<R>,
}

fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn authenticate<R: RoleSpec>(req: &HttpRequest) -> Result<Authenticated<R>, ApiError> {
    let state = req
        .app_data::<Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let token = bearer_token(req)
        .ok_or_else(|| ApiError::unauthenticated("unauthenticated", "send Authorization: Bearer <access token>"))?;
    let now = crate::clock::now();
    match state.tokens.verify(token, R::AUDIENCE, now) {
        Ok(claims) if claims.role == R::NAME => Ok(Authenticated {
            account_id: claims.sub,
            _role: PhantomData,
        }),
        Ok(_) => Err(ApiError::unauthenticated(
            "invalid_token",
            "token role does not match its audience",
        )),
        Err(TokenError::Expired) => Err(ApiError::unauthenticated(
            "token_expired",
            "access token has expired; sign in again",
        )),
        Err(TokenError::Invalid(_)) => {
            // A genuine token for another role is a permission problem, not an identity one.
            let other_role = AUDIENCES
                .into_iter()
                .filter(|a| *a != R::AUDIENCE)
                .any(|a| state.tokens.verify(token, a, now).is_ok());
            if other_role {
                Err(ApiError::forbidden(
                    "wrong_role",
                    "this endpoint is not available to your role",
                ))
            } else {
                Err(ApiError::unauthenticated("invalid_token", "access token is not valid"))
            }
        }
    }
}

impl<R: RoleSpec> FromRequest for Authenticated<R> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(authenticate::<R>(req))
    }
}
