//! infobank-web: the actix-web service. JSON API and portal, authentication extractors,
//! problem+json errors, OpenAPI, metrics. No SQL here: every database call is a domain function.

pub mod api;
pub mod auth;
pub mod background;
pub mod clock;
pub mod config;
pub mod error;
pub mod evidence;
pub mod limits;
pub mod metrics;
pub mod nul_guard;
mod observe;
pub mod openapi;
pub mod optional_json;
pub mod portal;
mod routing;
mod security_headers;
pub mod sequencing;
mod server;
pub mod state;
pub mod tls;

pub use config::{Config, ConfigError};
pub use server::{ServerOptions, build_server};
pub use state::AppState;
