//! `infobank serve`.

use std::net::TcpListener;

use infobank_web::{AppState, Config, ServerOptions, build_server};

use crate::setup::{CliError, prepare};

pub fn run(listen: Option<String>) -> Result<(), CliError> {
    let mut config = Config::from_env()?;
    if let Some(addr) = listen {
        config.listen = addr.parse().map_err(|_| {
            CliError::Other(format!(
                "--listen: {addr:?} is not a socket address such as 127.0.0.1:8080"
            ))
        })?;
    }
    let ready = prepare(config)?;
    let listener = TcpListener::bind(ready.config.listen)
        .map_err(|e| CliError::Other(format!("cannot listen on {}: {e}", ready.config.listen)))?;
    let bound = listener.local_addr().map_err(|e| CliError::Other(e.to_string()))?;
    let database = ready.pool.url().to_string();
    let limits = ready.config.rate_limits;
    let state = AppState::new(ready.pool, ready.keys, ready.config.json_limit)
        .map_err(|e| CliError::Other(e.to_string()))?
        .with_limits(infobank_web::limits::RateLimits::from_rates(
            limits.login_per_minute,
            limits.token_per_minute,
            limits.disclosures_per_second,
        ));
    let options = ServerOptions {
        workers: None,
        handle_signals: true,
    };

    actix_web::rt::System::new().block_on(async move {
        actix_web::rt::spawn(infobank_web::background::sign_tree_heads(state.clone()));
        actix_web::rt::spawn(infobank_web::background::expire_consents(state.clone()));
        let server = build_server(state, listener, &options).map_err(|e| CliError::Other(e.to_string()))?;
        println!("infobank is running");
        println!("  portal:   http://{bound}/");
        println!("  API docs: http://{bound}/api/docs/");
        println!("  database: {database}");
        println!("  data:     {}", ready.config.data_dir.display());
        server.await.map_err(|e| CliError::Other(e.to_string()))
    })
}
