//! What every handler may reach: the pool, the keys, the token signer, the message catalogue and
//! the metrics. Built once at start and shared (cheap clones of `Arc`s).

use std::sync::Arc;

use infobank_crypto::{Ed25519Signer, KeyRing, TokenSigner};
use infobank_db::{DbConnection, Pool};

use crate::error::ApiError;
use crate::limits::RateLimits;
use crate::metrics::Metrics;
use crate::portal::i18n::Catalogue;

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub keys: Arc<KeyRing>,
    pub tokens: Arc<TokenSigner>,
    /// Signs the audit log's tree heads.
    pub log_signer: Arc<Ed25519Signer>,
    pub metrics: Metrics,
    pub catalogue: Arc<Catalogue>,
    pub json_limit: usize,
    pub limits: Arc<RateLimits>,
    /// The audit log's maximum merge delay (see `sequencing`).
    pub merge_delay: std::time::Duration,
    pub sequencer_poll: std::time::Duration,
    /// SQLite's group-commit writer (`infobank_db::group`), entered by every request's
    /// database work; `None` on PostgreSQL.
    pub group_writer: Option<Arc<infobank_db::group::GroupWriter>>,
    /// The statistics threshold `k` and the life of predicate attestations.
    pub disclose_less: crate::config::DiscloseLessConfig,
}

impl AppState {
    pub fn new(pool: Pool, keys: KeyRing, json_limit: usize) -> Result<Self, StateError> {
        let tokens = TokenSigner::new(&keys);
        let log_signer = keys.log_signer().map_err(|e| StateError(e.to_string()))?;
        let group_writer = pool.group_writer().map_err(|e| StateError(e.to_string()))?;
        Ok(Self {
            group_writer,
            pool,
            keys: Arc::new(keys),
            tokens: Arc::new(tokens),
            log_signer: Arc::new(log_signer),
            metrics: Metrics::new().map_err(|e| StateError(e.to_string()))?,
            catalogue: Arc::new(Catalogue::load().map_err(StateError)?),
            json_limit,
            limits: Arc::new(RateLimits::from_rates(60, 60, 100)),
            merge_delay: std::time::Duration::from_secs(1),
            sequencer_poll: crate::sequencing::POLL,
            disclose_less: crate::config::DiscloseLessConfig::default(),
        })
    }

    /// The same state with this statistics threshold and attestation life.
    pub fn with_disclose_less(mut self, settings: crate::config::DiscloseLessConfig) -> Self {
        self.disclose_less = settings;
        self
    }

    /// The same state with this maximum merge delay (the default is the configuration's).
    pub fn with_merge_delay(mut self, merge_delay: std::time::Duration, poll: std::time::Duration) -> Self {
        self.merge_delay = merge_delay;
        self.sequencer_poll = poll;
        self
    }

    /// The same state with these rate limits (the defaults are the configuration's defaults).
    pub fn with_limits(mut self, limits: RateLimits) -> Self {
        self.limits = Arc::new(limits);
        self
    }

    /// Runs blocking database work on the blocking thread pool with one pooled connection.
    /// Domain errors are mapped by the caller through `E: Into<ApiError>`.
    pub async fn db<T, E, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection, &KeyRing) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let keys = Arc::clone(&self.keys);
        let writer = self.group_writer.clone();
        actix_web::web::block(move || {
            let _writing = writer.map(infobank_db::group::enter);
            let mut conn = pool.get().map_err(ApiError::from)?;
            work(&mut conn, &keys).map_err(Into::into)
        })
        .await?
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("pool", &self.pool)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot build application state: {0}")]
pub struct StateError(String);
