//! The `infobank` binary as a newcomer and an operator meet it: a first run with no configuration
//! at all, the same on PostgreSQL, staff accounts from stdin, clear configuration errors, and logs
//! that never contain what people typed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)] // tests use the real clock

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use infobank_testkit::TestDb;
use serde_json::{Value, json};

mod audit;
mod backup;
mod coins;
mod company;
mod demo;
mod keys;
mod tls;

const PASSWORD: &str = "a long and secret passphrase";

fn infobank(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_infobank"));
    // A clean slate: only PATH survives, so no INFOBANK_* from the developer's shell leaks in.
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(cwd);
    cmd
}

struct Server {
    child: Child,
    base: String,
    stderr: mpsc::Receiver<String>,
}

impl Server {
    fn start(mut cmd: Command) -> Self {
        let mut child = cmd
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (out_tx, out_rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = out_tx.send(line);
            }
        });
        let (err_tx, err_rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = err_tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let base = loop {
            let line = out_rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("server printed its portal URL");
            if let Some(url) = line.trim().strip_prefix("portal:") {
                break url.trim().trim_end_matches('/').to_owned();
            }
        };
        assert!(
            base.starts_with("http://127.0.0.1:") || base.starts_with("https://127.0.0.1:"),
            "{base}"
        );
        Self {
            child,
            base,
            stderr: err_rx,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, String) {
        let req = ureq::request(method, &format!("{}{path}", self.base));
        let result = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        match result {
            Ok(r) => (r.status(), r.into_string().unwrap()),
            Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap()),
            Err(e) => panic!("{e}"),
        }
    }

    /// Stops the server and returns everything it logged.
    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && self.child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr.try_iter().collect::<Vec<_>>().join("\n")
    }
}

/// A test that panics before `stop` must not leave its server running.
impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn sign_up_and_in(server: &Server, email: &str) -> String {
    let (status, body) = server.call(
        "POST",
        "/api/v1/citizens",
        Some(json!({"email": email, "password": PASSWORD, "display_name": "First Runner"})),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = server.call(
        "POST",
        "/api/v1/auth/login",
        Some(json!({"email": email, "password": PASSWORD})),
    );
    assert_eq!(status, 200, "{body}");
    let token: Value = serde_json::from_str(&body).unwrap();
    token["access_token"].as_str().unwrap().to_owned()
}

fn assert_logs_are_clean(logs: &str, secrets: &[&str]) {
    assert!(logs.contains("handled"), "expected request logs, got: {logs}");
    for secret in secrets {
        assert!(!logs.contains(secret), "log contains {secret:?}:\n{logs}");
    }
}

#[test]
fn first_run_with_no_configuration_creates_data_and_serves() {
    let cwd = tempfile::tempdir().unwrap();
    let mut cmd = infobank(cwd.path());
    cmd.env("RUST_LOG", "debug");
    let server = Server::start(cmd);

    assert_eq!(server.call("GET", "/readyz", None).0, 200);
    let data = cwd.path().join("data");
    assert!(data.join("infobank.db").is_file());
    assert_eq!(std::fs::metadata(&data).unwrap().permissions().mode() & 0o777, 0o700);
    for key in ["token-signing.ed25519.pk8", "kek.v1.key", "pseudonym.key"] {
        let mode = std::fs::metadata(data.join("keys").join(key))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{key}");
    }
    let (status, page) = server.call("GET", "/signin", None);
    assert_eq!(status, 200);
    assert!(page.contains("<form"));

    let token = sign_up_and_in(&server, "first.runner@example.jp");
    let logs = server.stop();
    assert_logs_are_clean(&logs, &[PASSWORD, &token, "first.runner", "First Runner"]);
}

#[test]
fn serves_on_postgres_when_the_url_says_so() {
    let Some(db) = TestDb::postgres() else { return };
    let cwd = tempfile::tempdir().unwrap();
    let mut cmd = infobank(cwd.path());
    cmd.env("INFOBANK_DATABASE_URL", db.url.to_string());
    let server = Server::start(cmd);
    assert_eq!(server.call("GET", "/readyz", None).0, 200);
    sign_up_and_in(&server, "pg.runner@example.jp");
    server.stop();
    assert!(
        !cwd.path().join("data/infobank.db").exists(),
        "no SQLite file when PostgreSQL is configured"
    );
}

fn run_with_stdin(cwd: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = infobank(cwd)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn staff_accounts_are_created_from_stdin_and_can_sign_in() {
    let cwd = tempfile::tempdir().unwrap();
    let (code, out, err) = run_with_stdin(
        cwd.path(),
        &["admin", "create-operator", "--email", "op@bank.example.jp"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("created operator account "), "{out}");
    let (code, _, err) = run_with_stdin(
        cwd.path(),
        &["admin", "create-regulator", "--email", "fsa@gov.example.jp"],
        PASSWORD,
    );
    assert_eq!(code, 0, "{err}");

    let (code, _, err) = run_with_stdin(
        cwd.path(),
        &["admin", "create-operator", "--email", "op@bank.example.jp"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = run_with_stdin(
        cwd.path(),
        &["admin", "create-operator", "--email", "op2@bank.example.jp"],
        "short\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("at least 12 characters"), "{err}");
    let (code, _, err) = run_with_stdin(
        cwd.path(),
        &["admin", "create-operator", "--email", "op3@bank.example.jp"],
        "",
    );
    assert_eq!(code, 1);
    assert!(err.contains("no password on stdin"), "{err}");

    let server = Server::start(infobank(cwd.path()));
    for (email, role) in [("op@bank.example.jp", "operator"), ("fsa@gov.example.jp", "regulator")] {
        let (status, body) = server.call(
            "POST",
            "/api/v1/auth/login",
            Some(json!({"email": email, "password": PASSWORD})),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["role"], role);
    }
    server.stop();
}

#[test]
fn bad_configuration_is_one_clear_line_and_exit_1() {
    let cwd = tempfile::tempdir().unwrap();
    for (var, value, expected) in [
        ("INFOBANK_LISTEN", "not-an-address", "INFOBANK_LISTEN"),
        (
            "INFOBANK_DATABASE_URL",
            "mysql://root:hunter2@db/x",
            "INFOBANK_DATABASE_URL",
        ),
        ("INFOBANK_POOL_SIZE", "lots", "INFOBANK_POOL_SIZE"),
    ] {
        let out = infobank(cwd.path()).env(var, value).arg("migrate").output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{var}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            err.starts_with("error: configuration: ") && err.contains(expected),
            "{err}"
        );
        assert!(
            !err.contains("hunter2"),
            "a password in the URL must not be echoed: {err}"
        );
    }
    let out = infobank(cwd.path())
        .args(["serve", "--listen", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--listen"));
}

#[test]
fn migrate_creates_and_then_reports_an_up_to_date_database() {
    let cwd = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let out = infobank(cwd.path()).arg("migrate").output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("is up to date"));
    }
    assert!(cwd.path().join("data/infobank.db").is_file());
}
