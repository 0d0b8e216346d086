//! Load script for the disclosure endpoint (docs/performance.md):
//!
//! ```sh
//! cargo build --release -p infobank
//! cargo run --release -p infobank --example disclosure_load -- [--database-url postgres://…] [--seconds 10]
//! ```
//!
//! Starts the release server on a fresh data directory (SQLite by default, durable:
//! `synchronous=FULL`; or the given PostgreSQL database, which it migrates), seeds an approved
//! company, a funded periodic offer and 100 citizens who consented, then for concurrency 4, 16
//! and 64 sends `GET /api/v1/consents/{id}/data` (each one a durable transaction with its audit
//! leaf) and, as the framework's ceiling, `GET /healthz`, for `--seconds` each. Prints requests
//! per second and p50/p99 latency.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods
)] // a load script: it reads the clock and fails loudly

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CITIZENS: usize = 100;
const PASSWORD: &str = "load test passphrase";

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn bin() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/release/examples/disclosure_load -> target/release/infobank
    exe.parent().unwrap().parent().unwrap().join("infobank")
}

fn post(agent: &ureq::Agent, url: &str, token: Option<&str>, body: Value) -> Value {
    let mut req = agent.post(url);
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    match req.send_json(body) {
        Ok(r) => r.into_json().unwrap_or(Value::Null),
        Err(ureq::Error::Status(code, r)) => panic!("{url}: {code} {}", r.into_string().unwrap_or_default()),
        Err(e) => panic!("{url}: {e}"),
    }
}

fn login(agent: &ureq::Agent, base: &str, email: &str) -> String {
    post(
        agent,
        &format!("{base}/api/v1/auth/login"),
        None,
        json!({"email": email, "password": PASSWORD}),
    )["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Runs `concurrency` threads against `path(i)` for `seconds`; returns (requests/s, p50, p99).
fn run(
    base: &str,
    token: &str,
    concurrency: usize,
    seconds: u64,
    paths: &[String],
) -> (f64, Duration, Duration, usize) {
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let (latencies, errors): (Vec<Vec<Duration>>, Vec<usize>) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..concurrency)
            .map(|t| {
                let stop = &stop;
                s.spawn(move || {
                    let agent = ureq::AgentBuilder::new().build();
                    let mut lat = Vec::new();
                    let mut errors = 0;
                    let mut i = t;
                    while !stop.load(Ordering::Relaxed) {
                        let url = format!("{base}{}", paths[i % paths.len()]);
                        i += concurrency;
                        let begin = Instant::now();
                        let ok = agent
                            .get(&url)
                            .set("Authorization", &format!("Bearer {token}"))
                            .call()
                            .map(|r| r.into_string().is_ok())
                            .unwrap_or(false);
                        lat.push(begin.elapsed());
                        errors += usize::from(!ok);
                    }
                    (lat, errors)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(seconds));
        stop.store(true, Ordering::Relaxed);
        handles.into_iter().map(|h| h.join().unwrap()).unzip()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut all: Vec<Duration> = latencies.into_iter().flatten().collect();
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    (all.len() as f64 / elapsed, pct(0.50), pct(0.99), errors.iter().sum())
}

fn main() {
    let seconds: u64 = arg("--seconds").map_or(10, |s| s.parse().unwrap());
    let database_url = arg("--database-url");
    let dir = tempfile::tempdir().unwrap();
    let mut env: Vec<(String, String)> = vec![(
        "INFOBANK_DATA_DIR".into(),
        dir.path().join("data").display().to_string(),
    )];
    if let Some(url) = &database_url {
        env.push(("INFOBANK_DATABASE_URL".into(), url.clone()));
    }
    env.push(("INFOBANK_POOL_SIZE".into(), "32".into()));
    // The load comes from one address and one company: the per-client limits would measure
    // themselves, not the disclosure path.
    for limit in [
        "INFOBANK_RATE_LIMIT_LOGIN",
        "INFOBANK_RATE_LIMIT_TOKEN",
        "INFOBANK_RATE_LIMIT_DISCLOSURE",
    ] {
        env.push((limit.into(), "0".into()));
    }
    env.push(("RUST_LOG".into(), "warn".into()));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");

    let mut create = Command::new(bin())
        .args(["admin", "create-operator", "--email", "load-op@example.jp"])
        .envs(env.clone())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    create
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    assert!(create.wait().unwrap().success());
    let mut server = Command::new(bin())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .envs(env.clone())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let agent = ureq::AgentBuilder::new().build();
    let deadline = Instant::now() + Duration::from_secs(30);
    while agent.get(&format!("{base}/readyz")).call().is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }

    eprintln!("seeding: a company, an offer, {CITIZENS} citizens with consents…");
    let operator = login(&agent, &base, "load-op@example.jp");
    let corporate = "1180301018771";
    let applied = post(
        &agent,
        &format!("{base}/api/v1/companies"),
        None,
        json!({
        "legal_name": "Load K.K.", "corporate_number": corporate, "contact_email": "dpo@load.example.jp",
        "privacy_policy_url": "https://load.example.jp/p",
        "security_certification": {"kind": "ISMS", "id": "IS 1", "expires_on": "2099-01-01"}}),
    );
    let company = applied["id"].as_str().unwrap().to_owned();
    post(
        &agent,
        &format!("{base}/api/v1/operator/companies/{company}/approve"),
        Some(&operator),
        json!({}),
    );
    let fund = Command::new(bin())
        .args(["coins", "fund", &company, "100000"])
        .envs(env.clone())
        .output()
        .unwrap();
    assert!(fund.status.success());
    let basic = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            applied["client_id"].as_str().unwrap(),
            applied["client_secret"].as_str().unwrap()
        ))
    };
    let company_token: Value = agent
        .post(&format!("{base}/api/v1/oauth/token"))
        .set("Authorization", &format!("Basic {basic}"))
        .send_form(&[("grant_type", "client_credentials")])
        .unwrap()
        .into_json()
        .unwrap();
    let company_token = company_token["access_token"].as_str().unwrap().to_owned();
    let offer = post(
        &agent,
        &format!("{base}/api/v1/offers"),
        Some(&company_token),
        json!({
        "title": "Load", "description": "Load test offer.", "purpose": "research_statistics",
        "categories": ["residence", "daily_mood"], "data_range_days": 30, "access": "periodic",
        "max_fetches_per_day": 1440, "retention_days": 30, "consent_days": 30, "reward_coins": 5}),
    );
    let offer = offer["id"].as_str().unwrap().to_owned();
    post(
        &agent,
        &format!("{base}/api/v1/operator/offers/{offer}/approve"),
        Some(&operator),
        json!({"reason": "load"}),
    );
    let mut paths = Vec::new();
    for n in 0..CITIZENS {
        let email = format!("load{n}@example.jp");
        post(
            &agent,
            &format!("{base}/api/v1/citizens"),
            None,
            json!({"email": email, "password": PASSWORD, "display_name": "L"}),
        );
        let token = login(&agent, &base, &email);
        post(
            &agent,
            &format!("{base}/api/v1/me/records"),
            Some(&token),
            json!({"category": "residence",
            "data": {"prefecture": "Tokyo", "city": "Chiyoda", "postal_code": "100-0001"}}),
        );
        post(
            &agent,
            &format!("{base}/api/v1/me/records"),
            Some(&token),
            json!({"category": "daily_mood",
            "data": {"date": chrono::Utc::now().date_naive().to_string(), "score": 4, "note": "ok"}}),
        );
        let granted = post(
            &agent,
            &format!("{base}/api/v1/me/consents"),
            Some(&token),
            json!({"offer_id": offer}),
        );
        paths.push(format!(
            "/api/v1/consents/{}/data",
            granted["consent"]["id"].as_str().unwrap()
        ));
    }
    let health = vec!["/healthz".to_owned()];
    let backend = if database_url.is_some() { "postgres" } else { "sqlite" };
    println!("| backend | endpoint | concurrency | requests/s | p50 | p99 | errors |");
    println!("|---|---|---|---|---|---|---|");
    for concurrency in [4, 16, 64] {
        for (name, list) in [("disclosure", &paths), ("/healthz", &health)] {
            let (rps, p50, p99, errors) = run(&base, &company_token, concurrency, seconds, list);
            println!(
                "| {backend} | {name} | {concurrency} | {rps:.0} | {:.2} ms | {:.2} ms | {errors} |",
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3
            );
        }
    }
    let _ = server.kill();
    let _ = server.wait();
}
