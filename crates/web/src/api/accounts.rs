//! Citizen sign-up and the signed-in citizen's own profile.

use actix_web::HttpResponse;
use actix_web::web::{Data, Json};
use chrono::Utc;
use infobank_accounts::{NewAccount, Role, create_account, profile};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::auth::{Authenticated, Citizen};
use crate::error::ApiError;
use crate::state::AppState;

fn valid_email(email: &str) -> Result<(), ValidationError> {
    infobank_accounts::normalize_email(email)
        .map(|_| ())
        .ok_or_else(|| ValidationError::new("email").with_message("not a valid email address".into()))
}

fn valid_password(password: &str) -> Result<(), ValidationError> {
    infobank_accounts::check_password(password)
        .map_err(|m| ValidationError::new("password_policy").with_message(m.into()))
}

fn not_blank(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        Err(ValidationError::new("blank").with_message("must not be blank".into()))
    } else {
        Ok(())
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    #[validate(custom(function = "valid_email"))]
    #[schema(example = "hanako@example.jp")]
    pub email: String,
    #[validate(custom(function = "valid_password"))]
    #[schema(min_length = 12, max_length = 128, format = Password)]
    pub password: String,
    #[validate(length(min = 1, max = 100), custom(function = "not_blank"))]
    #[schema(example = "Hanako")]
    pub display_name: String,
}

impl std::fmt::Debug for SignUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignUp { .. }")
    }
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

/// Sign up as a citizen.
#[utoipa::path(post, path = "/api/v1/citizens", tag = "accounts", request_body = SignUp, responses(
    (status = 201, body = Created),
    (status = 400, description = "malformed JSON", body = crate::error::Problem),
    (status = 409, description = "email_taken", body = crate::error::Problem),
    (status = 413, description = "payload_too_large", body = crate::error::Problem),
    (status = 422, description = "validation_failed, with the fields named", body = crate::error::Problem),
))]
pub async fn sign_up(state: Data<AppState>, body: Json<SignUp>) -> Result<HttpResponse, ApiError> {
    body.validate()?;
    let SignUp {
        email,
        password,
        display_name,
    } = body.into_inner();
    let now = crate::clock::now();
    let id = state
        .db(move |conn, keys| {
            let new = NewAccount {
                role: Role::Citizen,
                email: &email,
                password: &password,
                display_name: &display_name,
            };
            create_account(conn, keys, &new, now)
        })
        .await?;
    Ok(HttpResponse::Created().json(Created { id }))
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: String,
    pub role: String,
    pub email: String,
    pub display_name: String,
    pub created_at: chrono::DateTime<Utc>,
}

/// The signed-in citizen's own account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("citizen" = [])), responses(
    (status = 200, body = Me),
    (status = 401, description = "unauthenticated, invalid_token or token_expired", body = crate::error::Problem),
    (status = 403, description = "wrong_role", body = crate::error::Problem),
))]
pub async fn me(state: Data<AppState>, who: Authenticated<Citizen>) -> Result<Json<Me>, ApiError> {
    let p = state.db(move |conn, keys| profile(conn, keys, &who.account_id)).await?;
    Ok(Json(Me {
        id: p.id,
        role: p.role.as_str().to_owned(),
        email: p.email,
        display_name: p.display_name,
        created_at: p.created_at,
    }))
}
