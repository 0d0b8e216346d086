//! `infobank serve`.

use std::net::TcpListener;
use std::path::PathBuf;

use infobank_web::config::tls_files;
use infobank_web::{AppState, Config, ServerOptions, build_server};

use crate::demo::DemoOptions;
use crate::setup::{CliError, prepare};

/// `tls_cert`, `tls_key`: the files given on the command line, which win over the environment's.
pub fn run(
    listen: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    demo: Option<DemoOptions>,
) -> Result<(), CliError> {
    let mut config = Config::from_env()?;
    if let Some(files) = tls_files(tls_cert, tls_key)? {
        config.tls = Some(files);
    }
    // Read before anything is created, so a wrong path fails at once with its name.
    let tls = match &config.tls {
        Some(files) => Some(
            infobank_web::tls::server_config(&files.cert_chain, &files.private_key)
                .map_err(|e| CliError::Other(e.to_string()))?,
        ),
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
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
    let portal = format!("{scheme}://{bound}/");
    let seeded = match demo {
        Some(options) => seed_demo(&ready, options)?,
        None => None,
    };
    let database = ready.pool.url().to_string();
    let limits = ready.config.rate_limits;
    let state = AppState::new(ready.pool, ready.keys, ready.config.json_limit)
        .map_err(|e| CliError::Other(e.to_string()))?
        .with_limits(infobank_web::limits::RateLimits::from_rates(
            limits.login_per_minute,
            limits.token_per_minute,
            limits.disclosures_per_second,
        ))
        .with_merge_delay(
            std::time::Duration::from_millis(ready.config.merge_delay_ms),
            std::time::Duration::from_millis(ready.config.sequencer_poll_ms),
        )
        .with_disclose_less(ready.config.disclose_less);
    let options = ServerOptions {
        workers: None,
        handle_signals: true,
        tls,
    };

    actix_web::rt::System::new().block_on(async move {
        actix_web::rt::spawn(infobank_web::sequencing::sequence_log(state.clone()));
        actix_web::rt::spawn(infobank_web::background::consent_upkeep(state.clone()));
        let server = build_server(state, listener, &options).map_err(|e| CliError::Other(e.to_string()))?;
        if let Some(seeded) = &seeded {
            crate::demo::print_summary(seeded, &portal);
        }
        println!("infobank is running");
        println!("  portal:   {portal}");
        println!("  API docs: {scheme}://{bound}/api/docs/");
        println!("  database: {database}");
        println!("  data:     {}", ready.config.data_dir.display());
        server.await.map_err(|e| CliError::Other(e.to_string()))
    })
}

/// `serve --demo`: seeds an empty database; one that holds data is served as it is (a second
/// `serve --demo` on the same data directory simply serves the demo seeded the first time).
fn seed_demo(ready: &crate::setup::Ready, options: DemoOptions) -> Result<Option<crate::demo::Seeded>, CliError> {
    let mut conn = ready.pool.get().map_err(|e| CliError::Other(e.to_string()))?;
    if !crate::demo::is_empty(&mut conn)? {
        println!("--demo: the database already holds data; serving it as it is (no demo seeded)");
        return Ok(None);
    }
    drop(conn);
    let seeded = crate::demo::seed(ready, options)?;
    // The history's leaves get their indices before the first request reads the log.
    let mut conn = ready.pool.get().map_err(|e| CliError::Other(e.to_string()))?;
    infobank_audit::sequencer::integrate_all(&mut conn).map_err(|e| CliError::Other(e.to_string()))?;
    Ok(Some(seeded))
}
