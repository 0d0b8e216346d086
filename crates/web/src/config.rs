//! Configuration: one typed struct, defaults that serve a first run, overridden by an optional
//! TOML file (`INFOBANK_CONFIG`) and then by `INFOBANK_*` environment variables. Validated at
//! start-up; every error is one line naming the setting.

use std::net::SocketAddr;
use std::path::PathBuf;

use infobank_coins::RewardPolicy;
use infobank_coins::policy::PolicyOverrides;
use infobank_db::DatabaseUrl;
use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    pub key_dir: PathBuf,
    pub pool_size: u32,
    /// How long a request waits for a free database connection before it is answered 503
    /// `database_busy` (rather than queueing without bound behind a stuck database).
    pub pool_timeout_ms: u64,
    /// Largest JSON body accepted by the API, in bytes.
    pub json_limit: usize,
    /// The audit log's maximum merge delay: a queued leaf is under a signed tree head within
    /// this time (docs/audit.md, "Queue and sequencer").
    pub merge_delay_ms: u64,
    /// How often the sequencer looks at the audit queue (default 25 ms; the crash test makes it
    /// slow, so that a kill finds leaves queued).
    pub sequencer_poll_ms: u64,
    /// The reward policy to publish: the defaults with the `[rewards]` table of the file applied
    /// (docs/rewards.md). Publishing different parameters creates a new policy version.
    pub rewards: RewardPolicy,
    /// Sign-in and token requests per minute per client address, disclosures per second per
    /// company (0 turns a limit off).
    pub rate_limits: RateLimitConfig,
    /// Serve HTTPS with this certificate chain and key (PEM); plain HTTP when absent, for
    /// running behind a TLS-terminating proxy.
    pub tls: Option<TlsFiles>,
    /// Disclosing less: the statistics threshold and the life of predicate attestations.
    pub disclose_less: DiscloseLessConfig,
}

/// The smallest `k` a bank may configure: below it a cell says too much about a few people.
pub const MIN_STATISTICS_K: i64 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscloseLessConfig {
    /// A statistics cell is released only with at least this many distinct people (bank-wide;
    /// default 10, never below [`MIN_STATISTICS_K`]).
    pub statistics_k: i64,
    /// How long a predicate attestation is valid (`exp - iat`), in seconds (default 300).
    pub attestation_ttl_seconds: i64,
}

impl Default for DiscloseLessConfig {
    fn default() -> Self {
        Self {
            statistics_k: 10,
            attestation_ttl_seconds: 300,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert_chain: PathBuf,
    pub private_key: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    pub login_per_minute: u32,
    pub token_per_minute: u32,
    pub disclosures_per_second: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{setting}: {message}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub message: String,
}

/// The settings as a TOML file may give them; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    key_dir: Option<PathBuf>,
    pool_size: Option<u32>,
    pool_timeout_ms: Option<u64>,
    json_limit: Option<usize>,
    merge_delay_ms: Option<u64>,
    sequencer_poll_ms: Option<u64>,
    rewards: Option<PolicyOverrides>,
    rate_limit_login: Option<u32>,
    rate_limit_token: Option<u32>,
    rate_limit_disclosure: Option<u32>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    statistics_k: Option<i64>,
    attestation_ttl_seconds: Option<i64>,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any variable lookup (tests pass a map).
    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let file = match env("INFOBANK_CONFIG") {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
                    setting: "INFOBANK_CONFIG",
                    message: format!("cannot read {path}: {e}"),
                })?;
                toml::from_str::<FileConfig>(&text).map_err(|e| ConfigError {
                    setting: "INFOBANK_CONFIG",
                    message: format!("{path}: {}", e.message()),
                })?
            }
            None => FileConfig::default(),
        };

        let listen_raw = env("INFOBANK_LISTEN")
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = listen_raw.parse().map_err(|_| ConfigError {
            setting: "INFOBANK_LISTEN",
            message: format!("{listen_raw:?} is not a socket address such as 127.0.0.1:8080"),
        })?;

        let data_dir = env("INFOBANK_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| "data".into());
        if data_dir.as_os_str().is_empty() {
            return Err(ConfigError {
                setting: "INFOBANK_DATA_DIR",
                message: "must not be empty".into(),
            });
        }
        let database_url = match env("INFOBANK_DATABASE_URL").or(file.database_url) {
            Some(raw) => DatabaseUrl::parse(&raw).map_err(|e| ConfigError {
                setting: "INFOBANK_DATABASE_URL",
                message: e.to_string(),
            })?,
            None => DatabaseUrl::sqlite_file(data_dir.join("infobank.db")),
        };
        let key_dir = env("INFOBANK_KEY_DIR")
            .map(PathBuf::from)
            .or(file.key_dir)
            .unwrap_or_else(|| data_dir.join("keys"));

        let pool_size = parse_number(&env, "INFOBANK_POOL_SIZE", file.pool_size, 8)?;
        if !(1..=256).contains(&pool_size) {
            return Err(ConfigError {
                setting: "INFOBANK_POOL_SIZE",
                message: "must be between 1 and 256".into(),
            });
        }
        let pool_timeout_ms = parse_number(&env, "INFOBANK_POOL_TIMEOUT_MS", file.pool_timeout_ms, 5_000)?;
        if !(50..=60_000).contains(&pool_timeout_ms) {
            return Err(ConfigError {
                setting: "INFOBANK_POOL_TIMEOUT_MS",
                message: "must be between 50 and 60000 milliseconds".into(),
            });
        }
        let json_limit = parse_number(&env, "INFOBANK_JSON_LIMIT", file.json_limit, 256 * 1024)?;
        if json_limit < 1024 {
            return Err(ConfigError {
                setting: "INFOBANK_JSON_LIMIT",
                message: "must be at least 1024 bytes".into(),
            });
        }

        let merge_delay_ms = parse_number(&env, "INFOBANK_MERGE_DELAY_MS", file.merge_delay_ms, 1_000)?;
        if !(100..=3_600_000).contains(&merge_delay_ms) {
            return Err(ConfigError {
                setting: "INFOBANK_MERGE_DELAY_MS",
                message: "must be between 100 and 3600000 milliseconds".into(),
            });
        }

        let sequencer_poll_ms = parse_number(&env, "INFOBANK_SEQUENCER_POLL_MS", file.sequencer_poll_ms, 25)?;
        if !(1..=60_000).contains(&sequencer_poll_ms) {
            return Err(ConfigError {
                setting: "INFOBANK_SEQUENCER_POLL_MS",
                message: "must be between 1 and 60000 milliseconds".into(),
            });
        }

        let rewards = RewardPolicy::with_overrides(&file.rewards.unwrap_or_default()).map_err(|e| ConfigError {
            setting: "INFOBANK_CONFIG [rewards]",
            message: e.to_string(),
        })?;

        let rate_limits = RateLimitConfig {
            login_per_minute: parse_number(&env, "INFOBANK_RATE_LIMIT_LOGIN", file.rate_limit_login, 60)?,
            token_per_minute: parse_number(&env, "INFOBANK_RATE_LIMIT_TOKEN", file.rate_limit_token, 60)?,
            disclosures_per_second: parse_number(
                &env,
                "INFOBANK_RATE_LIMIT_DISCLOSURE",
                file.rate_limit_disclosure,
                100,
            )?,
        };

        let statistics_k = parse_number(&env, "INFOBANK_STATISTICS_K", file.statistics_k, 10)?;
        if !(MIN_STATISTICS_K..=1_000).contains(&statistics_k) {
            return Err(ConfigError {
                setting: "INFOBANK_STATISTICS_K",
                message: format!("must be between {MIN_STATISTICS_K} and 1000 people"),
            });
        }
        let attestation_ttl_seconds = parse_number(
            &env,
            "INFOBANK_ATTESTATION_TTL_SECONDS",
            file.attestation_ttl_seconds,
            300,
        )?;
        if !(10..=3_600).contains(&attestation_ttl_seconds) {
            return Err(ConfigError {
                setting: "INFOBANK_ATTESTATION_TTL_SECONDS",
                message: "must be between 10 and 3600 seconds".into(),
            });
        }

        let tls = tls_files(
            env("INFOBANK_TLS_CERT").map(PathBuf::from).or(file.tls_cert),
            env("INFOBANK_TLS_KEY").map(PathBuf::from).or(file.tls_key),
        )?;

        Ok(Self {
            listen,
            data_dir,
            database_url,
            key_dir,
            pool_size,
            pool_timeout_ms,
            json_limit,
            merge_delay_ms,
            sequencer_poll_ms,
            rewards,
            rate_limits,
            tls,
            disclose_less: DiscloseLessConfig {
                statistics_k,
                attestation_ttl_seconds,
            },
        })
    }
}

/// Both files or neither: a certificate without its key (or the reverse) is a mistake to name,
/// not a reason to fall back to plain HTTP.
pub fn tls_files(cert_chain: Option<PathBuf>, private_key: Option<PathBuf>) -> Result<Option<TlsFiles>, ConfigError> {
    match (cert_chain, private_key) {
        (Some(cert_chain), Some(private_key)) => Ok(Some(TlsFiles {
            cert_chain,
            private_key,
        })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(ConfigError {
            setting: "INFOBANK_TLS_KEY",
            message: "a TLS certificate needs its private key too".into(),
        }),
        (None, Some(_)) => Err(ConfigError {
            setting: "INFOBANK_TLS_CERT",
            message: "a TLS private key needs its certificate too".into(),
        }),
    }
}

fn parse_number<T: std::str::FromStr>(
    env: &impl Fn(&str) -> Option<String>,
    setting: &'static str,
    from_file: Option<T>,
    default: T,
) -> Result<T, ConfigError> {
    match env(setting) {
        Some(raw) => raw.trim().parse().map_err(|_| ConfigError {
            setting,
            message: format!("{raw:?} is not a whole number"),
        }),
        None => Ok(from_file.unwrap_or(default)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_serve_a_first_run() {
        let c = with(&[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert_eq!(c.database_url, DatabaseUrl::sqlite_file("data/infobank.db"));
        assert_eq!(c.key_dir, PathBuf::from("data/keys"));
    }

    #[test]
    fn environment_overrides_and_derived_paths_follow_data_dir() {
        let c = with(&[("INFOBANK_DATA_DIR", "/srv/ib"), ("INFOBANK_LISTEN", "0.0.0.0:9000")]).unwrap();
        assert_eq!(c.database_url, DatabaseUrl::sqlite_file("/srv/ib/infobank.db"));
        assert_eq!(c.key_dir, PathBuf::from("/srv/ib/keys"));
        assert_eq!(c.listen.port(), 9000);
        let pg = with(&[("INFOBANK_DATABASE_URL", "postgres://u@h/db")]).unwrap();
        assert_eq!(pg.database_url.backend(), infobank_db::Backend::Postgres);
    }

    #[test]
    fn bad_settings_are_named() {
        assert_eq!(
            with(&[("INFOBANK_LISTEN", "localhost")]).unwrap_err().setting,
            "INFOBANK_LISTEN"
        );
        assert_eq!(
            with(&[("INFOBANK_DATABASE_URL", "mysql://x")]).unwrap_err().setting,
            "INFOBANK_DATABASE_URL"
        );
        assert_eq!(
            with(&[("INFOBANK_POOL_SIZE", "many")]).unwrap_err().setting,
            "INFOBANK_POOL_SIZE"
        );
        assert_eq!(
            with(&[("INFOBANK_POOL_SIZE", "0")]).unwrap_err().setting,
            "INFOBANK_POOL_SIZE"
        );
        assert_eq!(
            with(&[("INFOBANK_MERGE_DELAY_MS", "10")]).unwrap_err().setting,
            "INFOBANK_MERGE_DELAY_MS"
        );
        assert_eq!(with(&[]).unwrap().merge_delay_ms, 1_000);
        assert_eq!(with(&[]).unwrap().disclose_less, super::DiscloseLessConfig::default());
        assert_eq!(
            with(&[("INFOBANK_STATISTICS_K", "5")])
                .unwrap()
                .disclose_less
                .statistics_k,
            5
        );
        for (name, value) in [
            ("INFOBANK_STATISTICS_K", "4"),
            ("INFOBANK_STATISTICS_K", "ten"),
            ("INFOBANK_ATTESTATION_TTL_SECONDS", "0"),
            ("INFOBANK_ATTESTATION_TTL_SECONDS", "86400"),
        ] {
            assert_eq!(with(&[(name, value)]).unwrap_err().setting, name);
        }
        assert_eq!(
            with(&[("INFOBANK_MERGE_DELAY_MS", "60000")]).unwrap().merge_delay_ms,
            60_000
        );
        assert_eq!(
            with(&[("INFOBANK_POOL_TIMEOUT_MS", "10")]).unwrap_err().setting,
            "INFOBANK_POOL_TIMEOUT_MS"
        );
        assert_eq!(
            with(&[("INFOBANK_TLS_CERT", "/etc/infobank/tls.crt")])
                .unwrap_err()
                .setting,
            "INFOBANK_TLS_KEY"
        );
        let e = with(&[("INFOBANK_CONFIG", "/nonexistent/infobank.toml")]).unwrap_err();
        assert_eq!(e.setting, "INFOBANK_CONFIG");
        assert!(e.to_string().starts_with("INFOBANK_CONFIG: cannot read"));
    }

    #[test]
    fn toml_file_is_read_and_environment_wins() {
        let dir = std::env::temp_dir().join(format!("ib-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("infobank.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:7000\"\npool_size = 3\n").unwrap();
        let p = path.to_str().unwrap();
        let c = with(&[("INFOBANK_CONFIG", p)]).unwrap();
        assert_eq!((c.listen.port(), c.pool_size), (7000, 3));
        let c = with(&[("INFOBANK_CONFIG", p), ("INFOBANK_POOL_SIZE", "5")]).unwrap();
        assert_eq!(c.pool_size, 5);
        std::fs::write(&path, "lsiten = \"x\"\n").unwrap();
        assert_eq!(with(&[("INFOBANK_CONFIG", p)]).unwrap_err().setting, "INFOBANK_CONFIG");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
