//! Signing in over the API: credentials for a short-lived bearer token.

use actix_web::HttpRequest;
use actix_web::web::{Data, Json};
use infobank_accounts::authenticate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{ACCESS_TOKEN_TTL, audience};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub email: String,
    #[schema(format = Password)]
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Login { .. }")
    }
}

#[derive(Serialize, ToSchema)]
pub struct AccessToken {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub role: String,
}

/// Sign in as a citizen, operator or regulator.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = Login, responses(
    (status = 200, body = AccessToken),
    (status = 401, description = "invalid_credentials (the same for an unknown email and a wrong password)", body = crate::error::Problem),
    (status = 429, description = "too_many_attempts (this email) or rate_limited (this client), with Retry-After", body = crate::error::Problem),
))]
pub async fn login(state: Data<AppState>, req: HttpRequest, body: Json<Login>) -> Result<Json<AccessToken>, ApiError> {
    crate::limits::enforce(state.limits.login.as_ref(), &crate::limits::client_address(&req))?;
    let Login { email, password } = body.into_inner();
    let now = crate::clock::now();
    let account = state
        .db(move |conn, keys| authenticate(conn, keys, &email, &password, now))
        .await?;
    let issued = state
        .tokens
        .issue(
            &account.id,
            account.role.as_str(),
            audience(account.role),
            ACCESS_TOKEN_TTL,
            now,
        )
        .map_err(ApiError::internal)?;
    Ok(Json(AccessToken {
        access_token: issued.token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        role: account.role.as_str().to_owned(),
    }))
}
