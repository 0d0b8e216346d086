//! Assembles the application: middleware order, extractor error handlers, routes, fallbacks.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::web::{self, Data};
use actix_web::{App, HttpResponse, HttpServer};
use utoipa::OpenApi as _;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{form_error, json_config, not_found, path_error, query_error};
use crate::openapi::ApiDoc;
use crate::state::AppState;
use crate::{api, nul_guard, observe, portal, security_headers};

/// The JSON body limit of every endpoint but the record ones: sign-up, sign-in, applications,
/// offers (a 2,000-character description, escaped, fits many times), consents, redemptions.
pub const SMALL_JSON_LIMIT: usize = 32 * 1024;

/// The form body limit of the portal. Browsers percent-encode every byte of non-ASCII text, so a
/// Japanese character costs 9 bytes: an offer's 2,000-character description is 18 KB on the wire.
pub const PORTAL_FORM_LIMIT: usize = 64 * 1024;

#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Worker threads; `None` means one per core.
    pub workers: Option<usize>,
    /// Stop gracefully on SIGINT/SIGTERM (the CLI); tests stop servers through their handle.
    pub handle_signals: bool,
    /// Serve HTTPS with this configuration instead of plain HTTP.
    pub tls: Option<rustls::ServerConfig>,
}

/// Binds the app to an already-open listener (port 0 in tests) and returns the running server.
pub fn build_server(state: AppState, listener: TcpListener, options: &ServerOptions) -> std::io::Result<Server> {
    let json_limit = state.json_limit;
    let tls = options.tls.is_some();
    let state = Data::new(state);
    let openapi = ApiDoc::openapi();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            // Every JSON body is small except a record's data (`api::routes` raises the limit for
            // those routes alone); a bulk import streams through its own 10 MiB limit.
            .app_data(json_config(SMALL_JSON_LIMIT.min(json_limit)))
            .app_data(
                web::FormConfig::default()
                    .limit(PORTAL_FORM_LIMIT)
                    .error_handler(form_error),
            )
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(web::PathConfig::default().error_handler(path_error))
            .wrap(from_fn(nul_guard::refuse_nul))
            .wrap(security_headers::security_headers(tls))
            .wrap(from_fn(observe::observe))
            .configure(|cfg| api::routes(cfg, json_limit))
            .configure(portal::routes)
            .service(web::resource("/api/docs").route(web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header(("Location", "/api/docs/"))
                    .finish()
            })))
            .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", openapi.clone()))
            .default_service(web::to(not_found))
    });
    let mut server = match &options.tls {
        Some(tls) => server.listen_rustls_0_23(listener, tls.clone())?,
        None => server.listen(listener)?,
    };
    if !options.handle_signals {
        server = server.disable_signals();
    }
    if let Some(workers) = options.workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}
