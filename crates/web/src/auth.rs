//! Bearer-token authentication, one extractor per role. Each role has its own JWT audience, so a
//! citizen's token is not a regulator's token even though one key signs both.
//!
//! A handler says who may call it by its argument type: `Authenticated<Citizen>`.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use chrono::{DateTime, Duration, Utc};
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
    /// Tokens of this role end when the account's client secret is replaced (companies): a
    /// token issued before a reset must not outlive the secret it was issued for.
    const ENDS_WITH_ITS_SECRET: bool = false;
    /// The account role behind tokens of this role, whose holder must still exist when a request
    /// comes (a deleted account's token is refused before it expires). `None` for companies,
    /// which [`Self::ENDS_WITH_ITS_SECRET`] checks instead.
    const ACCOUNT: Option<Role> = None;
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
    const ACCOUNT: Option<Role> = Some(Role::Citizen);
}
impl RoleSpec for Operator {
    const NAME: &'static str = "operator";
    const AUDIENCE: &'static str = "infobank:operator";
    const ACCOUNT: Option<Role> = Some(Role::Operator);
}
impl RoleSpec for Regulator {
    const NAME: &'static str = "regulator";
    const AUDIENCE: &'static str = "infobank:regulator";
    const ACCOUNT: Option<Role> = Some(Role::Regulator);
}
impl RoleSpec for Company {
    const NAME: &'static str = COMPANY_ROLE;
    const AUDIENCE: &'static str = COMPANY_AUDIENCE;
    const ENDS_WITH_ITS_SECRET: bool = true;
}

/// When to date a company's token issued now: now, or the first second its current secret
/// allows ([`infobank_consent::companies::session_is_current`]) when the secret was replaced
/// within this very second, so that a token issued right after a replacement is not void.
pub fn company_token_time(sessions_valid_from: Option<i64>, now: DateTime<Utc>) -> DateTime<Utc> {
    sessions_valid_from
        .filter(|from| *from > now.timestamp())
        .and_then(|from| DateTime::from_timestamp(from, 0))
        .unwrap_or(now)
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

/// The token's holder and when it was issued.
fn authenticate<R: RoleSpec>(req: &HttpRequest) -> Result<(Authenticated<R>, i64), ApiError> {
    let state = req
        .app_data::<Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let token = bearer_token(req)
        .ok_or_else(|| ApiError::unauthenticated("unauthenticated", "send Authorization: Bearer <access token>"))?;
    let now = crate::clock::now();
    match state.tokens.verify(token, R::AUDIENCE, now) {
        Ok(claims) if claims.role == R::NAME => Ok((
            Authenticated {
                account_id: claims.sub,
                _role: PhantomData,
            },
            claims.iat,
        )),
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

impl<R: RoleSpec + 'static> FromRequest for Authenticated<R> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let authenticated = authenticate::<R>(req);
        let state = req.app_data::<Data<AppState>>().cloned();
        Box::pin(async move {
            let (who, issued_at) = authenticated?;
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let id = who.account_id.clone();
            if let Some(role) = R::ACCOUNT {
                let exists = state
                    .db(move |conn, _| infobank_accounts::holds_role(conn, &id, role))
                    .await?;
                return if exists {
                    Ok(who)
                } else {
                    Err(ApiError::unauthenticated(
                        "token_revoked",
                        "the account behind this token no longer exists",
                    ))
                };
            }
            if !R::ENDS_WITH_ITS_SECRET {
                return Ok(who);
            }
            let current = state
                .db(move |conn, _| infobank_consent::companies::session_is_current(conn, &id, issued_at))
                .await?;
            if current {
                Ok(who)
            } else {
                Err(ApiError::unauthenticated(
                    "token_revoked",
                    "the client secret was replaced after this token was issued; request a new token",
                ))
            }
        })
    }
}
