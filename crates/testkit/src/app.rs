//! The real server on a free port, in a thread with its own actix system.

use std::net::TcpListener;
use std::sync::mpsc;

use infobank_crypto::KeyRing;
use infobank_db::Pool;
use infobank_web::{AppState, ServerOptions, build_server};
use serde_json::{Value, json};

use crate::TestDb;
use crate::http::{Response, into_response};

pub struct TestApp {
    pub base_url: String,
    pub pool: Pool,
    pub db: TestDb,
    pub key_dir: tempfile::TempDir,
    agent: ureq::Agent,
    handle: actix_web::dev::ServerHandle,
}

impl TestApp {
    pub fn spawn(db: TestDb) -> Self {
        let pool = db.pool();
        Self::spawn_on(db, pool)
    }

    /// The server on a pool the test built (a small one, to exhaust it).
    pub fn spawn_on(db: TestDb, pool: Pool) -> Self {
        Self::spawn_with(db, pool, infobank_web::limits::RateLimits::from_rates(60, 60, 100))
    }

    /// The server with rate limits of the test's choosing.
    pub fn spawn_limited(db: TestDb, limits: infobank_web::limits::RateLimits) -> Self {
        let pool = db.pool();
        Self::spawn_with(db, pool, limits)
    }

    fn spawn_with(db: TestDb, pool: Pool, limits: infobank_web::limits::RateLimits) -> Self {
        let key_dir = tempfile::tempdir().unwrap();
        let keys = KeyRing::load_or_create(key_dir.path()).unwrap();
        // As `infobank serve` does at start: the default reward policy is published.
        infobank_coins::policy::publish(
            &mut pool.get().unwrap(),
            &infobank_coins::RewardPolicy::default(),
            infobank_web::clock::now(),
        )
        .unwrap();
        let state = AppState::new(pool.clone(), keys, 64 * 1024)
            .unwrap()
            .with_limits(limits);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let options = ServerOptions {
                    workers: Some(2),
                    handle_signals: false,
                    tls: None,
                };
                // As `infobank serve` does: the audit log's sequencer runs beside the server.
                actix_web::rt::spawn(infobank_web::sequencing::sequence_log(state.clone()));
                let server = build_server(state, listener, &options).unwrap();
                tx.send(server.handle()).unwrap();
                server.await.unwrap();
            });
        });
        let handle = rx.recv().unwrap();
        let agent = ureq::AgentBuilder::new().redirects(0).build();
        Self {
            base_url,
            pool,
            db,
            key_dir,
            agent,
            handle,
        }
    }

    /// Integrates every queued audit leaf now, for a test that reads the log right after a
    /// write (the server's sequencer would within its poll interval).
    pub fn integrate(&self) -> u64 {
        infobank_audit::sequencer::integrate_all(&mut self.pool.get().unwrap()).unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn request(&self, method: &str, path: &str) -> ureq::Request {
        self.agent.request(method, &self.url(path))
    }

    pub fn send(&self, req: ureq::Request) -> Response {
        into_response(req.call())
    }

    pub fn send_bytes(&self, req: ureq::Request, body: &[u8]) -> Response {
        into_response(req.send_bytes(body))
    }

    pub fn get(&self, path: &str) -> Response {
        self.send(self.request("GET", path))
    }

    pub fn get_with_token(&self, path: &str, token: &str) -> Response {
        self.send(
            self.request("GET", path)
                .set("Authorization", &format!("Bearer {token}")),
        )
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Response {
        into_response(self.request("POST", path).send_json(body.clone()))
    }

    pub fn get_with_cookie(&self, path: &str, cookie: &str) -> Response {
        self.send(self.request("GET", path).set("Cookie", cookie))
    }

    /// Posts an HTML form, as a browser would, with the given `Cookie` header.
    pub fn post_form(&self, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Response {
        let mut req = self.request("POST", path);
        if !cookie.is_empty() {
            req = req.set("Cookie", cookie);
        }
        into_response(req.send_form(fields))
    }

    /// Signs up a citizen and returns the new account id.
    pub fn sign_up(&self, email: &str, password: &str) -> String {
        let r = self.post_json(
            "/api/v1/citizens",
            &json!({ "email": email, "password": password, "display_name": "Test Citizen" }),
        );
        assert_eq!(r.status, 201, "sign-up failed: {}", r.body);
        r.json()["id"].as_str().unwrap().to_owned()
    }

    pub fn login(&self, email: &str, password: &str) -> Response {
        self.post_json("/api/v1/auth/login", &json!({ "email": email, "password": password }))
    }

    /// Signs in and returns the access token, failing the test if sign-in fails.
    pub fn token(&self, email: &str, password: &str) -> String {
        let r = self.login(email, password);
        assert_eq!(r.status, 200, "login failed: {}", r.body);
        r.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// The key ring this server uses (loaded again from its key directory).
    pub fn keys(&self) -> KeyRing {
        KeyRing::load_or_create(self.key_dir.path()).unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        actix_web::rt::System::new().block_on(handle.stop(false));
    }
}
