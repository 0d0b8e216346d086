//! Per-client rate limits on the endpoints worth guessing at or hammering: sign-in and the token
//! endpoint (per client address), and disclosures (per company). Token buckets in memory: each
//! node limits on its own, so with N nodes behind a balancer a client gets up to N times the rate
//! (docs/operations.md). A refused request gets 429 `rate_limited` with `Retry-After`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;

/// The most buckets one limit keeps. Past it idle (full) buckets are dropped first, then the
/// fullest one, so that many clients cannot grow memory without bound and a client that is being
/// refused (an empty bucket) is the last to be forgotten.
const MAX_BUCKETS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// One limit: `burst` requests at once, refilled at `per_second`.
#[derive(Debug)]
pub struct Limiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    pub fn new(per_second: f64, burst: u32) -> Self {
        Self {
            per_second,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request for `key` at `now`; `Err(seconds)` says when to retry.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            let level =
                |b: &Bucket| b.tokens + self.per_second * now.saturating_duration_since(b.updated).as_secs_f64();
            buckets.retain(|_, b| level(b) < self.burst);
            if buckets.len() >= MAX_BUCKETS {
                let fullest = buckets
                    .iter()
                    .max_by(|a, b| level(a.1).total_cmp(&level(b.1)))
                    .map(|(k, _)| k.clone());
                if let Some(fullest) = fullest {
                    buckets.remove(&fullest);
                }
            }
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated);
        bucket.tokens = (bucket.tokens + self.per_second * elapsed.as_secs_f64()).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = Duration::from_secs_f64((1.0 - bucket.tokens) / self.per_second);
            Err((wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1))
        }
    }
}

/// The limits of one server; `None` is unlimited.
#[derive(Debug, Default)]
pub struct RateLimits {
    pub login: Option<Limiter>,
    pub token: Option<Limiter>,
    pub disclosure: Option<Limiter>,
}

impl RateLimits {
    /// From the configured rates: sign-in and token requests per minute per client address,
    /// disclosures per second per company; 0 turns a limit off.
    pub fn from_rates(login_per_minute: u32, token_per_minute: u32, disclosures_per_second: u32) -> Self {
        let per_minute = |n: u32| (n > 0).then(|| Limiter::new(f64::from(n) / 60.0, n));
        Self {
            login: per_minute(login_per_minute),
            token: per_minute(token_per_minute),
            disclosure: (disclosures_per_second > 0).then(|| {
                Limiter::new(
                    f64::from(disclosures_per_second),
                    disclosures_per_second.saturating_mul(2),
                )
            }),
        }
    }
}

/// The client's key for per-address limits: the connection's peer (not X-Forwarded-For, which a
/// client can write; behind a proxy, limit at the proxy too). An IPv6 client is keyed by its /64,
/// the smallest block a network hands out, or one host could take a fresh address per attempt.
pub fn client_address(req: &HttpRequest) -> String {
    match req.peer_addr().map(|a| a.ip()) {
        Some(IpAddr::V6(ip)) if ip.to_ipv4_mapped().is_none() => {
            let s = ip.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(ip) => ip.to_canonical().to_string(),
        None => "unknown".to_owned(),
    }
}

/// Takes one request for `key` from `limiter` (if any) now; `Err(seconds)` says when to retry.
pub fn check(limiter: Option<&Limiter>, key: &str) -> Result<(), u64> {
    limiter.map_or(Ok(()), |l| l.check(key, Instant::now()))
}

/// [`check`] as a 429 `rate_limited` with `Retry-After`.
pub fn enforce(limiter: Option<&Limiter>, key: &str) -> Result<(), crate::error::ApiError> {
    check(limiter, key).map_err(|retry_after| {
        crate::error::ApiError::too_many_requests("rate_limited", i64::try_from(retry_after).unwrap_or(60))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let limiter = Limiter::new(1.0, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check("a", t0), Ok(()));
        }
        assert_eq!(limiter.check("a", t0), Err(1));
        assert_eq!(limiter.check("b", t0), Ok(()), "clients are limited apart");
        assert_eq!(limiter.check("a", t0 + Duration::from_millis(1_100)), Ok(()));
        assert!(limiter.check("a", t0 + Duration::from_millis(1_200)).is_err());
    }

    #[test]
    fn per_minute_limits_say_when_to_retry() {
        let limits = RateLimits::from_rates(2, 0, 0);
        let login = limits.login.as_ref().unwrap();
        let t0 = Instant::now();
        assert!(login.check("ip", t0).is_ok() && login.check("ip", t0).is_ok());
        assert_eq!(login.check("ip", t0), Err(30), "one request every 30 s at 2 a minute");
        assert!(
            limits.token.is_none() && limits.disclosure.is_none(),
            "0 turns a limit off"
        );
    }

    #[test]
    fn many_clients_do_not_grow_memory_without_bound() {
        let limiter = Limiter::new(1000.0, 1);
        let t0 = Instant::now();
        for n in 0..(MAX_BUCKETS + 10) {
            let _ = limiter.check(&n.to_string(), t0);
        }
        let later = t0 + Duration::from_secs(1);
        limiter.check("new", later).unwrap();
        assert!(limiter.buckets.lock().unwrap().len() < MAX_BUCKETS);
    }

    #[test]
    fn clients_are_keyed_by_address_and_ipv6_by_its_64() {
        let key = |addr: &str| {
            let req = actix_web::test::TestRequest::default()
                .peer_addr(addr.parse().unwrap())
                .to_http_request();
            client_address(&req)
        };
        assert_eq!(key("192.0.2.7:5000"), "192.0.2.7");
        assert_eq!(key("[2001:db8:1:2:aaaa::1]:5000"), "2001:db8:1:2::/64");
        assert_eq!(key("[2001:db8:1:2:bbbb::9]:6000"), key("[2001:db8:1:2:aaaa::1]:5000"));
        assert_ne!(key("[2001:db8:1:3::1]:5000"), key("[2001:db8:1:2::1]:5000"));
        assert_eq!(
            key("[::ffff:192.0.2.7]:5000"),
            "192.0.2.7",
            "an IPv4 client over IPv6 is itself"
        );
        let none = actix_web::test::TestRequest::default().to_http_request();
        assert_eq!(client_address(&none), "unknown");
    }

    /// When every bucket is in use (none idle), a new client still costs no memory: the fullest
    /// bucket makes room, and a client that is being refused keeps its empty bucket.
    #[test]
    fn a_full_map_forgets_the_fullest_bucket_not_a_refused_client() {
        let limiter = Limiter::new(0.001, 2);
        let t0 = Instant::now();
        assert!(limiter.check("guesser", t0).is_ok() && limiter.check("guesser", t0).is_ok());
        assert!(limiter.check("guesser", t0).is_err());
        for n in 0..MAX_BUCKETS {
            let _ = limiter.check(&n.to_string(), t0);
        }
        assert_eq!(limiter.buckets.lock().unwrap().len(), MAX_BUCKETS);
        assert!(
            limiter.check("guesser", t0).is_err(),
            "still refused after {MAX_BUCKETS} others"
        );
    }
}
