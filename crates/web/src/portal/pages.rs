//! Portal page handlers: sign-up, sign-in, sign-out, language switch.

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{Form, Path, Query};
use actix_web::{HttpRequest, HttpResponse, ResponseError as _};
use askama::Template;
use infobank_accounts::{AccountError, NewAccount, Role, authenticate, create_account, end_session, start_session};
use serde::Deserialize;
use validator::Validate as _;

use super::context::{PortalContext, SESSION_COOKIE, cookie, is_secure};
use super::i18n::{LANG_COOKIE, Lang, Messages};
use crate::api::accounts::SignUp;
use crate::error::ApiError;

/// What the shared layout (`base.html`) needs.
pub struct Layout<'a> {
    pub t: Messages<'a>,
    pub csrf: &'a str,
    pub signed_in: bool,
    pub is_regulator: bool,
    pub is_citizen: bool,
    pub is_operator: bool,
    /// The citizen's unread notices, shown beside the inbox link.
    pub unread: i64,
    pub path: &'a str,
    pub lang: &'static str,
    pub langs: [(&'static str, &'static str); 2],
}

impl<'a> Layout<'a> {
    pub fn of(ctx: &'a PortalContext) -> Self {
        Self {
            t: ctx.t(),
            csrf: &ctx.csrf_token,
            signed_in: ctx.account.is_some(),
            is_regulator: ctx.account.as_ref().is_some_and(|a| a.role == Role::Regulator),
            is_citizen: ctx.account.as_ref().is_some_and(|a| a.role == Role::Citizen),
            is_operator: ctx.account.as_ref().is_some_and(|a| a.role == Role::Operator),
            unread: ctx.unread_notices,
            path: &ctx.path,
            lang: ctx.lang.code(),
            langs: [("en", "English"), ("ja", "日本語")],
        }
    }
}

pub fn render(ctx: &PortalContext, status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => ctx.html(status, body),
        Err(e) => ApiError::internal(e).error_response(),
    }
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
    l: Layout<'a>,
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignUpPage<'a> {
    l: Layout<'a>,
    email: &'a str,
    display_name: &'a str,
    errors: Vec<(&'static str, &'static str)>,
}

impl SignUpPage<'_> {
    /// The catalogue key of the error for `field`, if it has one.
    fn error_for(&self, field: &str) -> Option<&'static str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, key)| *key)
    }
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage<'a> {
    l: Layout<'a>,
    email: &'a str,
    error: Option<&'static str>,
    notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    l: Layout<'a>,
    title_key: &'static str,
    message_key: &'static str,
}

pub fn error_page(
    ctx: &PortalContext,
    status: StatusCode,
    title_key: &'static str,
    message_key: &'static str,
) -> HttpResponse {
    render(
        ctx,
        status,
        &ErrorPage {
            l: Layout::of(ctx),
            title_key,
            message_key,
        },
    )
}

/// The answer to a page of another role: sign in first, or a 403 when signed in as someone else.
pub fn refuse(ctx: &PortalContext) -> HttpResponse {
    match ctx.account {
        None => ctx.redirect("/signin").finish(),
        Some(_) => error_page(ctx, StatusCode::FORBIDDEN, "error.forbidden_title", "error.forbidden"),
    }
}

/// The sign-in forms count against the same per-address limits as the API's sign-in and token
/// endpoints (one bucket each, whichever way the guesses come): over the limit, the error page
/// with 429 and `Retry-After`, before any password is hashed. Checked after the CSRF token, so
/// that another site cannot spend its visitors' buckets with cross-site posts.
pub fn rate_limited(ctx: &PortalContext, limiter: Option<&crate::limits::Limiter>) -> Option<HttpResponse> {
    let retry_after = crate::limits::check(limiter, &ctx.client_address).err()?;
    let mut res = error_page(
        ctx,
        StatusCode::TOO_MANY_REQUESTS,
        "error.rate_limited_title",
        "error.rate_limited",
    );
    if let Ok(value) = header::HeaderValue::from_str(&retry_after.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Some(res)
}

pub fn csrf_refused(ctx: &PortalContext) -> HttpResponse {
    tracing::warn!(path = %ctx.path, "portal form refused: CSRF token missing or wrong");
    error_page(ctx, StatusCode::FORBIDDEN, "error.csrf_title", "error.csrf")
}

pub async fn index(ctx: PortalContext) -> HttpResponse {
    if ctx.account.is_some() {
        return ctx.redirect("/home").finish();
    }
    render(&ctx, StatusCode::OK, &IndexPage { l: Layout::of(&ctx) })
}

pub async fn signup_form(ctx: PortalContext) -> HttpResponse {
    render(
        &ctx,
        StatusCode::OK,
        &SignUpPage {
            l: Layout::of(&ctx),
            email: "",
            display_name: "",
            errors: Vec::new(),
        },
    )
}

#[derive(Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    csrf_token: String,
    email: String,
    display_name: String,
    password: String,
}

pub async fn signup_submit(ctx: PortalContext, form: Form<SignUpForm>) -> Result<HttpResponse, ApiError> {
    if !ctx.csrf_matches(&form.csrf_token) {
        return Ok(csrf_refused(&ctx));
    }
    let SignUpForm {
        email,
        display_name,
        password,
        ..
    } = form.into_inner();
    let candidate = SignUp {
        email: email.clone(),
        password,
        display_name: display_name.clone(),
    };
    let page_with = |status, errors| {
        render(
            &ctx,
            status,
            &SignUpPage {
                l: Layout::of(&ctx),
                email: &email,
                display_name: &display_name,
                errors,
            },
        )
    };
    if let Err(invalid) = candidate.validate() {
        let mut errors = Vec::new();
        // In the order of the form, so the summary reads like the page.
        for (field, key) in [
            ("email", "error.email"),
            ("display_name", "error.display_name"),
            ("password", "error.password"),
        ] {
            if invalid.field_errors().contains_key(field) {
                errors.push((field, key));
            }
        }
        return Ok(page_with(StatusCode::UNPROCESSABLE_ENTITY, errors));
    }
    let now = crate::clock::now();
    let created = ctx
        .state
        .db(move |conn, keys| {
            let new = NewAccount {
                role: Role::Citizen,
                email: &candidate.email,
                password: &candidate.password,
                display_name: &candidate.display_name,
            };
            match create_account(conn, keys, &new, now) {
                Err(AccountError::DuplicateEmail) => Ok(false),
                other => other.map(|_| true),
            }
        })
        .await?;
    if created {
        Ok(ctx.redirect("/signin?notice=registered").finish())
    } else {
        Ok(page_with(StatusCode::CONFLICT, vec![("email", "error.email_taken")]))
    }
}

#[derive(Deserialize)]
pub struct SignInQuery {
    notice: Option<String>,
}

pub async fn signin_form(ctx: PortalContext, query: Query<SignInQuery>) -> HttpResponse {
    let notice = match query.notice.as_deref() {
        Some("registered") => Some("signin.registered"),
        Some("signed_out") => Some("signin.signed_out"),
        Some("account_deleted") => Some("data.account_deleted"),
        _ => None,
    };
    render(
        &ctx,
        StatusCode::OK,
        &SignInPage {
            l: Layout::of(&ctx),
            email: "",
            error: None,
            notice,
        },
    )
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf_token: String,
    email: String,
    password: String,
}

pub async fn signin_submit(ctx: PortalContext, form: Form<SignInForm>) -> Result<HttpResponse, ApiError> {
    if !ctx.csrf_matches(&form.csrf_token) {
        return Ok(csrf_refused(&ctx));
    }
    if let Some(refused) = rate_limited(&ctx, ctx.state.limits.login.as_ref()) {
        return Ok(refused);
    }
    let SignInForm { email, password, .. } = form.into_inner();
    let now = crate::clock::now();
    let typed_email = email.clone();
    let outcome = ctx
        .state
        .db(move |conn, keys| {
            let account = match authenticate(conn, keys, &email, &password, now) {
                Ok(account) => account,
                Err(AccountError::InvalidCredentials) => return Ok(Err(None)),
                Err(AccountError::Throttled { retry_after_secs }) => {
                    return Ok(Err(Some(retry_after_secs)));
                }
                Err(other) => return Err(other),
            };
            start_session(conn, &account.id, now).map(Ok)
        })
        .await?;
    match outcome {
        Ok(session) => {
            let max_age = CookieDuration::seconds((session.expires_at - now).num_seconds());
            Ok(ctx
                .redirect("/home")
                .cookie(cookie(SESSION_COOKIE, session.token, max_age, ctx.secure()))
                .finish())
        }
        Err(throttled) => {
            let (status, error) = match throttled {
                Some(_) => (StatusCode::TOO_MANY_REQUESTS, "error.throttled"),
                None => (StatusCode::UNAUTHORIZED, "error.credentials"),
            };
            let mut res = render(
                &ctx,
                status,
                &SignInPage {
                    l: Layout::of(&ctx),
                    email: &typed_email,
                    error: Some(error),
                    notice: None,
                },
            );
            if let Some(secs) = throttled
                && let Ok(value) = header::HeaderValue::from_str(&secs.to_string())
            {
                res.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(res)
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf_token: String,
}

pub async fn signout(ctx: PortalContext, form: Form<CsrfOnly>) -> Result<HttpResponse, ApiError> {
    if !ctx.csrf_matches(&form.csrf_token) {
        return Ok(csrf_refused(&ctx));
    }
    if let Some(token) = ctx.session_token.clone() {
        ctx.state.db(move |conn, _| end_session(conn, &token)).await?;
    }
    let mut gone = cookie(SESSION_COOKIE, String::new(), CookieDuration::ZERO, ctx.secure());
    gone.make_removal();
    Ok(ctx.redirect("/signin?notice=signed_out").cookie(gone).finish())
}

#[derive(Deserialize)]
pub struct SwitchQuery {
    next: Option<String>,
}

/// Where the language switch may send the browser back to: a path on this site, nothing else.
/// Browsers drop tabs and line breaks from a URL and read `\\` as `/`, so `/\t/evil.example` or
/// `/\\evil.example` would leave the site; and a control character cannot go into a header at
/// all. So only printable ASCII without a backslash, starting with one `/` and no second.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.strip_prefix('/').is_some_and(|rest| !rest.starts_with('/'))
                && path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            path
        }
        _ => "/",
    }
}

pub async fn switch_language(req: HttpRequest, code: Path<String>, query: Query<SwitchQuery>) -> HttpResponse {
    let Some(lang) = Lang::parse(&code) else {
        return ApiError::not_found().detail("unsupported language").error_response();
    };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, safe_next(query.next.as_deref()).to_owned()))
        .cookie(cookie(
            LANG_COOKIE,
            lang.code().to_owned(),
            CookieDuration::days(365),
            is_secure(&req),
        ))
        .finish()
}

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../static/portal.css"))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn language_switch_never_redirects_off_site() {
        assert_eq!(safe_next(Some("/signin")), "/signin");
        assert_eq!(safe_next(Some("//evil.example/x")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some("/offers?page=2&sort=new")), "/offers?page=2&sort=new");
        // What browsers read as another site, or what cannot go into a header.
        for bad in [
            "/\t/evil.example",
            "/\t\\evil.example",
            "/ /evil.example",
            "/\n/evil.example",
            "/\r\nSet-Cookie: x=1",
            "/\x7f",
            "/a\\b",
            "/été",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
    }
}
