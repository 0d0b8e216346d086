//! The edge's clock. Domain code never reads the time itself (clippy's `disallowed-methods`
//! enforces it); handlers read it here once per request and pass `now` down.

use chrono::{DateTime, Utc};

#[allow(clippy::disallowed_methods)] // the one sanctioned place
pub fn now() -> DateTime<Utc> {
    Utc::now()
}
