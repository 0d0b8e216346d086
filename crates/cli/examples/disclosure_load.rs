//! Load script for disclosures and entrusts (docs/performance.md):
//!
//! ```sh
//! cargo build --release -p infobank --example disclosure_load
//! ./target/release/examples/disclosure_load [--database-url postgres://…] [--nodes 2] [--seconds 10]
//!     [--levels 1,4,16,64] [--only disclosure,entrust,/healthz] [--server PATH]
//! ```
//!
//! (`cargo run --release -p infobank --example disclosure_load` does the same: it builds the
//! server first. `--server PATH` runs another build instead, for a before/after comparison.)
//!
//! Starts the release server on a fresh data directory (SQLite by default, durable:
//! `synchronous=FULL`; or the given PostgreSQL database, which it migrates), seeds an approved
//! company, a funded periodic offer and 100 citizens who consented, then for concurrency 1, 4,
//! 16 and 64 sends `GET /api/v1/consents/{id}/data` (each one a durable transaction with its audit
//! leaf), `POST /api/v1/me/records` (an entrust) and, as the framework's ceiling, `GET /healthz`,
//! for `--seconds` each. With `--nodes N` (PostgreSQL only) it starts N servers on the same
//! database and keys and spreads the client threads over them. Prints requests per second and
//! p50/p99 latency, and the ratios that docs/performance.md asks for: against the bare commit
//! rate of the same disk or server (single-row autocommitted inserts, measured first, in the
//! same run) and against concurrency 1; and the audit log's integration lag from `/metrics`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods
)] // a load script: it reads the clock and fails loudly

use std::io::Write as _;
use std::process::{Child, Command, Stdio};
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

/// The server under test: `--server PATH` (another build, for a before/after comparison in one
/// sitting), else the release binary beside this example.
fn bin() -> std::path::PathBuf {
    if let Some(path) = arg("--server") {
        return path.into();
    }
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

/// One request of the mix: GET or POST, path, bearer token, JSON body.
struct Req {
    post: bool,
    path: String,
    token: String,
    body: Option<Value>,
}

/// Runs `concurrency` threads for `seconds`, thread `t` sending to node `t % nodes` and cycling
/// through `reqs`; returns (requests/s, p50, p99, errors).
fn run(bases: &[String], concurrency: usize, seconds: u64, reqs: &[Req]) -> (f64, Duration, Duration, usize) {
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let (latencies, errors): (Vec<Vec<Duration>>, Vec<usize>) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..concurrency)
            .map(|t| {
                let stop = &stop;
                let base = &bases[t % bases.len()];
                s.spawn(move || {
                    let agent = ureq::AgentBuilder::new().build();
                    let mut lat = Vec::new();
                    let mut errors = 0;
                    let mut i = t;
                    while !stop.load(Ordering::Relaxed) {
                        let req = &reqs[i % reqs.len()];
                        i += concurrency;
                        let url = format!("{base}{}", req.path);
                        let auth = format!("Bearer {}", req.token);
                        let begin = Instant::now();
                        let result = if req.post {
                            agent
                                .post(&url)
                                .set("Authorization", &auth)
                                .send_json(req.body.clone().unwrap_or(Value::Null))
                        } else {
                            agent.get(&url).set("Authorization", &auth).call()
                        };
                        let ok = result.map(|r| r.into_string().is_ok()).unwrap_or(false);
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

/// Single-row autocommitted inserts per second on a database of the same kind and place as the
/// server's (SQLite: a file beside it, with the production pragmas; PostgreSQL: the same
/// database): what one durable commit costs, with nothing of the bank in it.
fn bare_commit_rate(url: &infobank_db::DatabaseUrl, seconds: f64) -> f64 {
    use infobank_db::diesel::RunQueryDsl as _;
    use infobank_db::diesel::connection::SimpleConnection as _;
    let pool = infobank_db::Pool::open(url.clone(), &infobank_db::PoolOptions::default()).unwrap();
    let conn = &mut *pool.get().unwrap();
    conn.batch_execute(
        "DROP TABLE IF EXISTS load_bare_commits; CREATE TABLE load_bare_commits (payload TEXT NOT NULL)",
    )
    .unwrap();
    let started = Instant::now();
    let mut commits = 0u64;
    while started.elapsed().as_secs_f64() < seconds {
        infobank_db::diesel::sql_query("INSERT INTO load_bare_commits (payload) VALUES ('x')")
            .execute(conn)
            .unwrap();
        commits += 1;
    }
    let rate = commits as f64 / started.elapsed().as_secs_f64();
    conn.batch_execute("DROP TABLE load_bare_commits").unwrap();
    rate
}

/// The 99th percentile of the integration lag histogram, as its bucket's upper bound.
fn integration_lag_p99(agent: &ureq::Agent, bases: &[String]) -> Option<f64> {
    let mut buckets: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
    for base in bases {
        let text = agent.get(&format!("{base}/metrics")).call().ok()?.into_string().ok()?;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("infobank_audit_integration_lag_seconds_bucket{le=\"") {
                let (le, count) = rest.split_once("\"} ")?;
                *buckets.entry(le.to_owned()).or_default() += count.parse::<f64>().ok()?;
            }
        }
    }
    let total = *buckets.get("+Inf")?;
    let mut bounds: Vec<(f64, f64)> = buckets
        .iter()
        .filter_map(|(le, count)| le.parse::<f64>().ok().map(|b| (b, *count)))
        .collect();
    bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    bounds
        .into_iter()
        .find(|(_, count)| *count >= total * 0.99)
        .map(|(b, _)| b)
}

/// SQLite's group commit as `/metrics` counts it: `(commits, jobs)` since the server started.
fn group_commit(agent: &ureq::Agent, base: &str) -> Option<(f64, f64)> {
    let text = agent.get(&format!("{base}/metrics")).call().ok()?.into_string().ok()?;
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
    };
    Some((
        value("infobank_sqlite_group_commits")?,
        value("infobank_sqlite_group_jobs")?,
    ))
}

fn start_node(env: &[(String, String)], data: &std::path::Path, agent: &ureq::Agent) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(bin())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .envs(env.iter().cloned())
        .env("INFOBANK_DATA_DIR", data)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while agent.get(&format!("{base}/readyz")).call().is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (child, base)
}

/// `cargo run --example` builds the example, not the server it starts: build that first, so
/// that a newcomer's one command measures the current code.
fn build_server() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "-p", "infobank", "--bin", "infobank"])
        .status()
        .unwrap();
    assert!(
        status.success(),
        "could not build the server: cargo build --release -p infobank"
    );
}

fn main() {
    if arg("--server").is_none() {
        build_server();
    }
    let seconds: u64 = arg("--seconds").map_or(10, |s| s.parse().unwrap());
    let database_url = arg("--database-url");
    let node_count: usize = arg("--nodes").map_or(1, |s| s.parse().unwrap());
    assert!(
        node_count == 1 || database_url.is_some(),
        "several nodes need --database-url (PostgreSQL)"
    );
    let dir = tempfile::tempdir().unwrap();
    // Every node shares the keys (and, on PostgreSQL, the database).
    let mut env: Vec<(String, String)> = vec![
        (
            "INFOBANK_DATA_DIR".into(),
            dir.path().join("node0").display().to_string(),
        ),
        ("INFOBANK_KEY_DIR".into(), dir.path().join("keys").display().to_string()),
        ("INFOBANK_POOL_SIZE".into(), "32".into()),
        ("RUST_LOG".into(), "warn".into()),
    ];
    if let Some(url) = &database_url {
        env.push(("INFOBANK_DATABASE_URL".into(), url.clone()));
    }
    // The load comes from one address and one company: the per-client limits would measure
    // themselves, not the disclosure path.
    for limit in [
        "INFOBANK_RATE_LIMIT_LOGIN",
        "INFOBANK_RATE_LIMIT_TOKEN",
        "INFOBANK_RATE_LIMIT_DISCLOSURE",
    ] {
        env.push((limit.into(), "0".into()));
    }

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
    let agent = ureq::AgentBuilder::new().build();
    let mut servers = Vec::new();
    let mut bases = Vec::new();
    for n in 0..node_count {
        let (child, base) = start_node(&env, &dir.path().join(format!("node{n}")), &agent);
        servers.push(child);
        bases.push(base);
    }
    let base = bases[0].clone();

    eprintln!("seeding: a company, an offer, {CITIZENS} citizens with consents…");
    let operator = login(&agent, &base, "load-op@example.jp");
    let applied = post(
        &agent,
        &format!("{base}/api/v1/companies"),
        None,
        json!({
        "legal_name": "Load K.K.", "corporate_number": "1180301018771", "contact_email": "dpo@load.example.jp",
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
    let today = chrono::Utc::now().date_naive().to_string();
    let mut disclosures = Vec::new();
    let mut entrusts = Vec::new();
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
        let mood = json!({"category": "daily_mood", "data": {"date": today, "score": 4, "note": "ok"}});
        post(&agent, &format!("{base}/api/v1/me/records"), Some(&token), mood);
        // Entrusts go to a category the offer does not read, so that what a disclosure returns
        // (and costs) stays the same from the first level to the last.
        let condition = json!({"category": "physical_condition", "data": {"date": today, "steps": 8000}});
        let granted = post(
            &agent,
            &format!("{base}/api/v1/me/consents"),
            Some(&token),
            json!({"offer_id": offer}),
        );
        disclosures.push(Req {
            post: false,
            path: format!("/api/v1/consents/{}/data", granted["consent"]["id"].as_str().unwrap()),
            token: company_token.clone(),
            body: None,
        });
        entrusts.push(Req {
            post: true,
            path: "/api/v1/me/records".into(),
            token,
            body: Some(condition),
        });
    }
    let health = vec![Req {
        post: false,
        path: "/healthz".into(),
        token: String::new(),
        body: None,
    }];
    let backend = if database_url.is_some() { "postgres" } else { "sqlite" };
    let bare_url = match &database_url {
        Some(url) => infobank_db::DatabaseUrl::parse(url).unwrap(),
        None => infobank_db::DatabaseUrl::sqlite_file(dir.path().join("bare-commits.db")),
    };
    let bare = bare_commit_rate(&bare_url, 3.0);
    println!("bare single-row commits on the same {backend}: {bare:.0}/s");
    println!("| backend | nodes | endpoint | concurrency | requests/s | / bare commits | / c=1 | p50 | p99 | errors |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut at_one: std::collections::HashMap<&str, f64> = std::collections::HashMap::new();
    let levels: Vec<usize> = arg("--levels").map_or(vec![1, 4, 16, 64], |l| {
        l.split(',').map(|n| n.parse().unwrap()).collect()
    });
    let only = arg("--only");
    for concurrency in levels {
        for (name, list) in [
            ("disclosure", &disclosures),
            ("entrust", &entrusts),
            ("/healthz", &health),
        ] {
            if only.as_deref().is_some_and(|only| !only.split(',').any(|o| o == name)) {
                continue;
            }
            let (rps, p50, p99, errors) = run(&bases, concurrency, seconds, list);
            let one = *at_one.entry(name).or_insert(rps);
            println!(
                "| {backend} | {node_count} | {name} | {concurrency} | {rps:.0} | {:.2} | {:.2} | {:.2} ms | {:.2} ms | {errors} |",
                rps / bare,
                rps / one,
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3
            );
        }
    }
    if let Some((commits, jobs)) = group_commit(&agent, &base).filter(|(commits, _)| *commits > 0.0) {
        println!(
            "SQLite group commit: {jobs:.0} write transactions in {commits:.0} commits ({:.1} per commit)",
            jobs / commits
        );
    }
    match integration_lag_p99(&agent, &bases) {
        Some(p99) => println!("audit integration lag, p99 over all batches: at most {p99} s"),
        None => println!("audit integration lag: no batch recorded"),
    }
    for mut server in servers {
        let _ = server.kill();
        let _ = server.wait();
    }
}
