//! What every portal page needs about the request: the language, the CSRF token and the signed-in
//! account, if any. Extracted once per request by [`PortalContext`].
//!
//! CSRF uses the double-submit pattern: a random token in an HttpOnly, SameSite=Strict cookie and
//! the same token in a hidden field of every form; a post is accepted only when the two match.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder};
use infobank_accounts::{Account, Role, find_session};
use infobank_consent::notices;
use infobank_crypto::hashing::constant_time_eq;

use super::i18n::{LANG_COOKIE, Lang, Messages};
use crate::error::ApiError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "infobank_session";
pub const CSRF_COOKIE: &str = "infobank_csrf";

pub struct PortalContext {
    pub state: Data<AppState>,
    pub lang: Lang,
    pub csrf_token: String,
    csrf_is_new: bool,
    pub account: Option<Account>,
    /// A signed-in citizen's unread notices (the count in the navigation); 0 for other roles.
    pub unread_notices: i64,
    pub session_token: Option<String>,
    /// The company portal's session token (a short-lived JWT), if any.
    pub company_session: Option<String>,
    pub path: String,
    /// The key of per-address rate limits ([`crate::limits::client_address`]).
    pub client_address: String,
    secure: bool,
}

fn choose_lang(req: &HttpRequest) -> Lang {
    req.cookie(LANG_COOKIE)
        .and_then(|c| Lang::parse(c.value()))
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::En)
}

/// The session cookie is only trusted over HTTPS when the page was served over HTTPS.
pub fn is_secure(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

pub fn cookie<'c>(name: &'c str, value: String, max_age: CookieDuration, secure: bool) -> Cookie<'c> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(max_age)
        .finish()
}

impl PortalContext {
    pub fn t(&self) -> Messages<'_> {
        self.state.catalogue.messages(self.lang)
    }

    /// Whether a submitted form carries this browser's CSRF token.
    pub fn csrf_matches(&self, submitted: &str) -> bool {
        !self.csrf_is_new && constant_time_eq(self.csrf_token.as_bytes(), submitted.as_bytes())
    }

    /// A response builder with the headers every portal page carries, and the CSRF cookie when
    /// this request created the token.
    pub fn respond(&self, status: StatusCode) -> HttpResponseBuilder {
        let mut res = HttpResponse::build(status);
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        if self.csrf_is_new {
            res.cookie(cookie(
                CSRF_COOKIE,
                self.csrf_token.clone(),
                CookieDuration::days(1),
                self.secure,
            ));
        }
        res
    }

    pub fn html(&self, status: StatusCode, body: String) -> HttpResponse {
        self.respond(status).insert_header(ContentType::html()).body(body)
    }

    pub fn redirect(&self, to: &str) -> HttpResponseBuilder {
        let mut res = self.respond(StatusCode::SEE_OTHER);
        res.insert_header((header::LOCATION, to.to_owned()));
        res
    }

    pub fn secure(&self) -> bool {
        self.secure
    }

    /// The signed-in account's id if it has `role`.
    pub fn account_id_as(&self, role: Role) -> Option<String> {
        self.account.as_ref().filter(|a| a.role == role).map(|a| a.id.clone())
    }
}

impl FromRequest for PortalContext {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<Data<AppState>>().cloned();
        let lang = choose_lang(req);
        let existing_csrf = req
            .cookie(CSRF_COOKIE)
            .map(|c| c.value().to_owned())
            .filter(|v| v.len() >= 32);
        let session_token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
        let company_session = req.cookie("infobank_company").map(|c| c.value().to_owned());
        // Path and query, so the language switch returns to exactly this page.
        let path = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned());
        let secure = is_secure(req);
        let client_address = crate::limits::client_address(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let (csrf_token, csrf_is_new) = match existing_csrf {
                Some(token) => (token, false),
                None => (
                    infobank_crypto::random::token_string().map_err(ApiError::internal)?,
                    true,
                ),
            };
            let (account, unread_notices) = match session_token.clone() {
                Some(token) => {
                    let now = crate::clock::now();
                    state
                        .db(move |conn, _| {
                            let account = find_session(conn, &token, now)?;
                            let unread = match &account {
                                Some(a) if a.role == Role::Citizen => notices::unread(conn, &a.id)?,
                                _ => 0,
                            };
                            Ok::<_, ApiError>((account, unread))
                        })
                        .await?
                }
                None => (None, 0),
            };
            Ok(Self {
                state,
                lang,
                csrf_token,
                csrf_is_new,
                account,
                unread_notices,
                session_token,
                company_session,
                path,
                client_address,
                secure,
            })
        })
    }
}
