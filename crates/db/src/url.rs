//! Parsing of `INFOBANK_DATABASE_URL`: the scheme picks the backend.

use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A libpq connection URL, kept verbatim.
    Postgres(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlError {
    #[error("database URL must start with sqlite:// or postgres:// (got {0:?})")]
    UnknownScheme(String),
    #[error("sqlite URL names no file; use sqlite:///absolute/path.db or sqlite://relative/path.db")]
    EmptySqlitePath,
    #[error("an in-memory SQLite database cannot be shared by a connection pool; name a file")]
    InMemorySqlite,
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, UrlError> {
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(UrlError::EmptySqlitePath);
            }
            if path == ":memory:" || path.contains("mode=memory") {
                return Err(UrlError::InMemorySqlite);
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        // Only the scheme is echoed back: the rest of a URL may hold a password.
        let scheme = raw.split("://").next().unwrap_or_default();
        Err(UrlError::UnknownScheme(scheme.to_owned()))
    }

    pub fn sqlite_file(path: impl Into<PathBuf>) -> Self {
        Self::Sqlite(path.into())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Shows the backend and the location, never a password.
impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => write!(f, "{}", redact_password(url)),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "postgres://<unparsable>".to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            if userinfo.contains(':') {
                format!("{scheme}://{user}:<redacted>@{host}")
            } else {
                format!("{scheme}://{user}@{host}")
            }
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_selects_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db").unwrap().backend(),
            Backend::Sqlite
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///abs/x.db").unwrap(),
            DatabaseUrl::Sqlite("/abs/x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
    }

    #[test]
    fn bad_urls_are_explained() {
        assert_eq!(
            DatabaseUrl::parse("mysql://root:pw@h/db"),
            Err(UrlError::UnknownScheme("mysql".into()))
        );
        assert_eq!(DatabaseUrl::parse("sqlite://"), Err(UrlError::EmptySqlitePath));
        assert_eq!(DatabaseUrl::parse("sqlite://:memory:"), Err(UrlError::InMemorySqlite));
    }

    #[test]
    fn display_hides_password() {
        let url = DatabaseUrl::parse("postgres://bank:s3cret@db.internal:5432/infobank").unwrap();
        let shown = format!("{url} {url:?}");
        assert!(!shown.contains("s3cret"));
        assert!(shown.contains("bank:<redacted>@db.internal:5432/infobank"));
    }
}
