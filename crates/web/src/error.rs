//! RFC 7807 problem details. Every error the service returns goes through [`ApiError`], with a
//! stable machine-readable `code`; internal causes are logged, never sent.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{Value, json};

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: Option<String>,
    pub errors: Vec<FieldError>,
    pub retry_after_secs: Option<i64>,
    pub www_authenticate: bool,
}

/// The problem+json body, documented in the OpenAPI schema.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, title: &'static str) -> Self {
        Self {
            status,
            code,
            title,
            detail: None,
            errors: Vec::new(),
            retry_after_secs: None,
            www_authenticate: false,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, "Bad request").detail(detail)
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Validation failed",
        );
        let fields: Vec<&str> = errors.iter().map(|f| f.field.as_str()).collect();
        e.detail = Some(format!("invalid fields: {}", fields.join(", ")));
        e.errors = errors;
        e
    }

    pub fn unauthenticated(code: &'static str, detail: &str) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, code, "Unauthorized").detail(detail);
        e.www_authenticate = true;
        e
    }

    pub fn forbidden(code: &'static str, detail: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, "Forbidden").detail(detail)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found")
    }

    pub fn too_many_requests(code: &'static str, retry_after_secs: i64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, code, "Too many requests")
            .detail(format!("retry after {retry_after_secs} seconds"));
        e.retry_after_secs = Some(retry_after_secs);
        e
    }

    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "Payload too large").detail(detail)
    }

    pub fn unavailable(code: &'static str, detail: &str) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, code, "Service unavailable").detail(detail);
        e.retry_after_secs = Some(1);
        e
    }

    /// Logs the cause with the request's span and answers a bare 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal server error",
        )
    }

    pub fn body(&self) -> Value {
        json!(Problem {
            kind: format!("urn:infobank:problem:{}", self.code),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            code: self.code.to_owned(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
        })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.code)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if let Some(secs) = self.retry_after_secs {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if self.www_authenticate {
            res.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"infobank\""),
            ));
        }
        res.body(self.body().to_string())
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut fields: Vec<FieldError> = errors
            .field_errors()
            .into_iter()
            .flat_map(|(field, errs)| {
                errs.iter().map(move |e| FieldError {
                    field: field.to_string(),
                    code: e.code.to_string(),
                    message: e
                        .message
                        .as_ref()
                        .map_or_else(|| e.code.to_string(), ToString::to_string),
                })
            })
            .collect();
        fields.sort_by(|a, b| a.field.cmp(&b.field));
        Self::validation(fields)
    }
}

impl From<infobank_db::DbError> for ApiError {
    fn from(e: infobank_db::DbError) -> Self {
        match e {
            infobank_db::DbError::PoolTimeout => {
                Self::unavailable("database_busy", "no database connection free; retry shortly")
            }
            other => Self::internal(other),
        }
    }
}

/// A database error at the edge of the API: a NUL in a text value that PostgreSQL refuses
/// (SQLSTATE 22021, "invalid byte sequence ... 0x00") is the client's bad input, a 400; anything
/// else is ours, a 500. The request paths and queries are screened for NUL before this
/// (`nul_guard`); this catches a NUL in a JSON body field that no validator looked at.
fn database_error(e: infobank_db::diesel::result::Error) -> ApiError {
    use infobank_db::diesel::result::Error as D;
    match &e {
        D::DatabaseError(_, info) if info.message().contains("0x00") => {
            ApiError::bad_request("invalid_request", "text must not contain NUL characters")
        }
        _ => ApiError::internal(e),
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::internal(e)
    }
}

/// The JSON extractor's configuration: `limit` bytes, and problem+json for every failure.
pub fn json_config(limit: usize) -> actix_web::web::JsonConfig {
    actix_web::web::JsonConfig::default()
        .limit(limit)
        .error_handler(json_error)
}

/// Malformed, oversized or mistyped JSON bodies.
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let api = match &err {
        E::Overflow { limit } | E::OverflowKnownLength { limit, .. } => {
            ApiError::payload_too_large(format!("request body exceeds {limit} bytes"))
        }
        E::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported media type",
        )
        .detail("send Content-Type: application/json"),
        E::Deserialize(e) if e.is_data() => {
            let message = e.to_string();
            match field_named_in(&message) {
                Some(field) => ApiError::validation(vec![FieldError {
                    field,
                    code: "invalid".into(),
                    message,
                }]),
                None => ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "Validation failed",
                )
                .detail(message),
            }
        }
        E::Deserialize(e) => ApiError::bad_request("malformed_json", format!("body is not valid JSON: {e}")),
        _ => ApiError::bad_request("malformed_body", "the request body could not be read"),
    };
    api.into()
}

/// serde names the field in "missing field `email`" and "unknown field `x`"; pick it out so the
/// problem lists it like any other invalid field.
fn field_named_in(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("unknown field `"))?;
    rest.split('`').next().filter(|f| !f.is_empty()).map(str::to_owned)
}

pub fn query_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request("invalid_query", err.to_string()).into()
}

pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request("invalid_path", err.to_string()).into()
}

pub fn form_error(err: actix_web::error::UrlencodedError, _req: &HttpRequest) -> actix_web::Error {
    use actix_web::error::UrlencodedError as E;
    let api = match err {
        E::Overflow { limit, .. } => ApiError::payload_too_large(format!("request body exceeds {limit} bytes")),
        E::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported media type",
        ),
        other => ApiError::bad_request("malformed_form", other.to_string()),
    };
    api.into()
}

/// Unknown routes.
pub async fn not_found() -> HttpResponse {
    ApiError::not_found().detail("no such resource").error_response()
}

/// A known path with a method it does not support; `allow` lists the ones it does.
pub fn method_not_allowed(allow: &str) -> HttpResponse {
    let mut response = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed",
    )
    .error_response();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(allow) {
        response.headers_mut().insert(actix_web::http::header::ALLOW, value);
    }
    response
}

impl From<infobank_accounts::AccountError> for ApiError {
    fn from(e: infobank_accounts::AccountError) -> Self {
        use infobank_accounts::AccountError as A;
        match e {
            A::DuplicateEmail => Self::new(StatusCode::CONFLICT, "email_taken", "Conflict")
                .detail("an account with this email already exists"),
            // The same answer for an unknown email and a wrong password.
            A::InvalidCredentials => Self::unauthenticated("invalid_credentials", "email or password is wrong"),
            A::Throttled { retry_after_secs } => Self::too_many_requests("too_many_attempts", retry_after_secs),
            A::InvalidEmail => Self::validation(vec![FieldError {
                field: "email".into(),
                code: "email".into(),
                message: "not a valid email address".into(),
            }]),
            A::WeakPassword(message) => Self::validation(vec![FieldError {
                field: "password".into(),
                code: "password_policy".into(),
                message: message.into(),
            }]),
            A::NotFound => Self::not_found(),
            A::Audit(e) => e.into(),
            A::Database(e) => database_error(e),
            other => Self::internal(other),
        }
    }
}

impl From<infobank_audit::AuditError> for ApiError {
    fn from(e: infobank_audit::AuditError) -> Self {
        use infobank_audit::AuditError as A;
        match e {
            A::BadRange(detail) => Self::bad_request("invalid_range", detail),
            A::OutOfRange { what, value, size } => Self::bad_request(
                "beyond_tree_size",
                format!("{what} {value} is beyond the tree size {size}"),
            ),
            // Fail closed: when the log cannot be written or read, the operation does not happen.
            other => {
                tracing::error!(error = %other, "audit log unavailable");
                Self::unavailable("audit_unavailable", "the audit log is unavailable; nothing was changed")
            }
        }
    }
}

impl From<infobank_vault::VaultError> for ApiError {
    fn from(e: infobank_vault::VaultError) -> Self {
        use infobank_vault::VaultError as V;
        match e {
            V::UnknownCategory(name) => {
                let mut err = Self::validation(vec![FieldError {
                    field: "category".into(),
                    code: "unknown_category".into(),
                    message: format!("no category {name}; see GET /api/v1/categories"),
                }]);
                err.code = "unknown_category";
                err
            }
            V::Invalid(errors) => {
                let card = errors.iter().any(|e| e.code == "full_card_number_forbidden");
                let mut err = Self::validation(
                    errors
                        .into_iter()
                        .map(|e| FieldError {
                            field: e.field,
                            code: e.code.to_owned(),
                            message: e.message,
                        })
                        .collect(),
                );
                if card {
                    err.code = "full_card_number_forbidden";
                }
                err
            }
            V::NotFound => Self::not_found().detail("no such record"),
            V::SingleRecordExists(category) => Self::new(StatusCode::CONFLICT, "single_record_exists", "Conflict")
                .detail(format!("there can be one {category} record; update it instead")),
            V::DuplicateTransaction => Self::new(StatusCode::CONFLICT, "duplicate_transaction", "Conflict")
                .detail("a payment with the same date, merchant and amount is already in the vault"),
            V::NotImportable(category) => {
                let mut err = Self::validation(vec![FieldError {
                    field: "category".into(),
                    code: "not_importable".into(),
                    message: format!("{category} cannot be imported in bulk; only payment_history"),
                }]);
                err.code = "not_importable";
                err
            }
            V::MalformedImport(detail) => Self::bad_request("malformed_import", detail),
            V::Account(e) => e.into(),
            V::Audit(e) => e.into(),
            V::Coins(e) => e.into(),
            V::Database(e) => database_error(e),
            other => Self::internal(other),
        }
    }
}

impl From<infobank_coins::CoinsError> for ApiError {
    fn from(e: infobank_coins::CoinsError) -> Self {
        use infobank_coins::CoinsError as C;
        let field = |field: &str, code: &str, message: String| {
            Self::validation(vec![FieldError {
                field: field.into(),
                code: code.into(),
                message,
            }])
        };
        match e {
            C::InsufficientBalance { balance, needed, .. } => {
                Self::new(StatusCode::CONFLICT, "insufficient_coins", "Conflict")
                    .detail(format!("the balance is {balance} coins; {needed} were asked for"))
            }
            // Not the company's balance: a citizen sees this answer.
            C::OfferNotFunded { .. } => Self::new(StatusCode::CONFLICT, "offer_not_funded", "Conflict")
                .detail("the company cannot fund this offer's reward right now"),
            C::IdempotencyConflict => Self::new(StatusCode::CONFLICT, "idempotency_key_reused", "Conflict")
                .detail("this idempotency_key was used for a different request"),
            C::InvalidAmount(message) => field("amount", "range", message),
            C::Invalid(message) if message.starts_with("idempotency_key") => {
                field("idempotency_key", "invalid", message)
            }
            C::Invalid(message) => Self::bad_request("invalid_request", message),
            C::Audit(e) => e.into(),
            C::Database(e) => database_error(e),
            other => Self::internal(other),
        }
    }
}

impl From<infobank_consent::ConsentError> for ApiError {
    fn from(e: infobank_consent::ConsentError) -> Self {
        use infobank_consent::ConsentError as C;
        let field = |field: &str, code: &str, message: String| {
            Self::validation(vec![FieldError {
                field: field.into(),
                code: code.into(),
                message,
            }])
        };
        match e {
            C::NotFound => Self::not_found(),
            C::Invalid { field: name, message } => field(name, "invalid", message),
            C::ReasonRequired => field("reason", "required", "a reason is required".into()),
            C::DuplicateCorporateNumber => Self::new(StatusCode::CONFLICT, "corporate_number_taken", "Conflict")
                .detail("a company with this corporate number has already applied"),
            C::InvalidCredentials => Self::unauthenticated("invalid_client", "client_id or client_secret is wrong"),
            C::CompanyNotApproved => Self::forbidden("company_not_approved", "the company is not approved"),
            C::InvalidTransition { from, to } => Self::new(StatusCode::CONFLICT, "invalid_transition", "Conflict")
                .detail(format!("cannot go from {from} to {to}")),
            C::OfferNotOpen => Self::new(StatusCode::CONFLICT, "offer_not_open", "Conflict")
                .detail("the offer is not approved, or its company is not approved"),
            C::AlreadyConsented => Self::new(StatusCode::CONFLICT, "already_consented", "Conflict")
                .detail("you already hold a live consent to this offer"),
            C::NotLive(why) => Self::forbidden(why.code(), "the consent does not allow access now"),
            C::StatisticsOnly => Self::new(StatusCode::CONFLICT, "statistics_only", "Conflict")
                .detail("a statistics offer discloses no citizen's data: run POST /api/v1/offers/{id}/statistics"),
            C::NotStatistics => Self::new(StatusCode::CONFLICT, "not_a_statistics_offer", "Conflict")
                .detail("this offer does not ask for statistics"),
            e @ (C::StatisticsTooClose { .. } | C::StatisticsOtherDimensions) => {
                Self::new(StatusCode::CONFLICT, "statistics_too_close", "Conflict").detail(e.to_string())
            }
            e @ C::ParticipantsChanged => {
                Self::new(StatusCode::CONFLICT, "participants_changed", "Conflict").detail(e.to_string())
            }
            C::Coins(e) => e.into(),
            C::Vault(e) => e.into(),
            C::Audit(e) => e.into(),
            C::Database(e) => database_error(e),
            other => Self::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::field_named_in;

    #[test]
    fn serde_messages_name_their_field() {
        assert_eq!(
            field_named_in("missing field `password` at line 1 column 13").as_deref(),
            Some("password")
        );
        assert_eq!(
            field_named_in("unknown field `pasword`, expected one of").as_deref(),
            Some("pasword")
        );
        assert_eq!(field_named_in("invalid type: integer `3`, expected a string"), None);
    }
}
