//! Start-up shared by every command: configuration, logging, keys, database.

use infobank_crypto::KeyRing;
use infobank_db::{Pool, PoolOptions, run_migrations};
use infobank_web::Config;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("configuration: {0}")]
    Config(#[from] infobank_web::ConfigError),
    #[error("data directory {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("keys: {0}")]
    Keys(#[from] infobank_crypto::KeyError),
    #[error("database {url}: {message}")]
    Database { url: String, message: String },
    #[error("{0}")]
    Other(String),
}

pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Logs go to stderr so that command output on stdout (JSON, tables) stays machine-readable.
    // Colour only for a person at a terminal; files, pipes and log collectors get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}

/// What every command needs: validated configuration, the key ring, a migrated database.
pub struct Ready {
    pub config: Config,
    pub keys: KeyRing,
    pub pool: Pool,
    /// The audit leaves a command queued are integrated when it ends.
    pub _integrate_on_exit: Option<IntegrateOnExit>,
}

/// Integrates the audit queue when dropped: a command run while no server is up (an operator
/// approving a company, funding coins) leaves its leaves indexed, not waiting for the next
/// start. A failure is logged; the leaves stay queued, and the next open integrates them.
pub struct IntegrateOnExit(Pool);

impl Drop for IntegrateOnExit {
    fn drop(&mut self) {
        let integrated = self
            .0
            .get()
            .map_err(|e| e.to_string())
            .and_then(|mut conn| infobank_audit::sequencer::integrate_all(&mut conn).map_err(|e| e.to_string()));
        if let Err(e) = integrated {
            tracing::warn!(error = %e, "could not integrate the queued audit leaves; the next start will");
        }
    }
}

pub fn prepare(config: Config) -> Result<Ready, CliError> {
    create_data_dir(&config.data_dir)?;
    let keys = KeyRing::load_or_create(&config.key_dir)?;
    let pool = open_migrated(&config)?;
    Ok(Ready {
        config,
        keys,
        _integrate_on_exit: Some(IntegrateOnExit(pool.clone())),
        pool,
    })
}

/// For the commands that work on an existing installation (backup, key-encryption-key
/// rotation): its database and key set must be there and are opened as they are, without
/// migrating or publishing anything, so that a wrong `INFOBANK_DATA_DIR` or `INFOBANK_KEY_DIR`
/// fails instead of creating, and copying or rotating, a new empty installation. A database
/// behind the binary's migrations opens too (a backup is taken before migrating); the commands
/// that read its tables call [`require_migrated`].
pub fn open_existing(config: Config) -> Result<Ready, CliError> {
    let db_err = database_error(&config);
    if let infobank_db::DatabaseUrl::Sqlite(path) = &config.database_url
        && !path.is_file()
    {
        return Err(db_err("no database there (is INFOBANK_DATA_DIR the server's?)".into()));
    }
    let keys = KeyRing::load_existing(&config.key_dir)?;
    let options = PoolOptions {
        max_size: 2,
        connection_timeout: std::time::Duration::from_millis(config.pool_timeout_ms),
    };
    let pool = Pool::open(config.database_url.clone(), &options).map_err(|e| db_err(e.to_string()))?;
    // An existing installation is read or copied as it is: nothing is integrated here.
    Ok(Ready {
        config,
        keys,
        pool,
        _integrate_on_exit: None,
    })
}

/// Refuses a database that is behind the binary's migrations.
pub fn require_migrated(ready: &Ready) -> Result<(), CliError> {
    let db_err = database_error(&ready.config);
    let mut conn = ready.pool.get().map_err(|e| db_err(e.to_string()))?;
    if infobank_db::is_fully_migrated(&mut conn).map_err(|e| db_err(e.to_string()))? {
        Ok(())
    } else {
        Err(db_err("migrations are pending: run `infobank migrate` first".into()))
    }
}

/// Creates the data directory private to the service user (0700). An existing directory is left
/// as the operator set it up.
fn create_data_dir(dir: &std::path::Path) -> Result<(), CliError> {
    let fail = |source| CliError::DataDir {
        path: dir.display().to_string(),
        source,
    };
    if dir.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(fail)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(fail)?;
    }
    Ok(())
}

/// A database error of the configured database, with its URL.
fn database_error(config: &Config) -> impl Fn(String) -> CliError + use<> {
    let url = config.database_url.to_string();
    move |message| CliError::Database {
        url: url.clone(),
        message,
    }
}

fn open_migrated(config: &Config) -> Result<Pool, CliError> {
    let db_err = database_error(config);
    let options = PoolOptions {
        max_size: config.pool_size,
        connection_timeout: std::time::Duration::from_millis(config.pool_timeout_ms),
    };
    let pool = Pool::open(config.database_url.clone(), &options).map_err(|e| db_err(e.to_string()))?;
    let mut conn = pool.get().map_err(|e| db_err(e.to_string()))?;
    let applied = run_migrations(&mut conn).map_err(|e| db_err(e.to_string()))?;
    for name in &applied {
        tracing::info!(migration = %name, "applied migration");
    }
    // The configured reward policy is published before any payout can use it; parameters that
    // differ from the latest version become the next version.
    let published = infobank_coins::policy::publish(&mut conn, &config.rewards, infobank_web::clock::now())
        .map_err(|e| db_err(format!("cannot publish the reward policy: {e}")))?;
    tracing::info!(version = published.version, "reward policy");
    // Leaves queued and never integrated (the server was killed, or stopped before its
    // sequencer ran) get their indices now, before any command reads or serves the log.
    let size = infobank_audit::sequencer::integrate_all(&mut conn)
        .map_err(|e| db_err(format!("cannot integrate the queued audit leaves: {e}")))?;
    tracing::debug!(tree_size = size, "audit log integrated");
    Ok(pool)
}

pub fn migrate_only() -> Result<(), CliError> {
    let config = Config::from_env()?;
    let ready = prepare(config)?;
    println!("database {} is up to date", ready.pool.url());
    Ok(())
}
