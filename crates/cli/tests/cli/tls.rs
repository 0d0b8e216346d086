//! `infobank serve` with a certificate and key: HTTPS only on its port, and configuration
//! mistakes named before anything starts.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::sync::Arc;

use serde_json::json;

use super::{PASSWORD, Server, infobank};

/// A self-signed certificate for 127.0.0.1, written as PEM; returns the certificate's DER.
fn self_signed(dir: &Path) -> Vec<u8> {
    let issued = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    std::fs::write(dir.join("tls.crt"), issued.cert.pem()).unwrap();
    let key = dir.join("tls.key");
    std::fs::write(&key, issued.signing_key.serialize_pem()).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    issued.cert.der().to_vec()
}

fn trusting(der: Vec<u8>) -> ureq::Agent {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der.into()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    ureq::AgentBuilder::new().tls_config(Arc::new(config)).build()
}

#[test]
fn serves_https_with_the_given_certificate_and_nothing_in_plain_text() {
    let cwd = tempfile::tempdir().unwrap();
    let der = self_signed(cwd.path());
    let mut cmd = infobank(cwd.path());
    cmd.env("INFOBANK_TLS_CERT", cwd.path().join("tls.crt"))
        .env("INFOBANK_TLS_KEY", cwd.path().join("tls.key"));
    let server = Server::start(cmd);
    assert!(server.base.starts_with("https://"), "{}", server.base);

    let agent = trusting(der);
    let health = agent.get(&format!("{}/healthz", server.base)).call().unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.header("strict-transport-security"), Some("max-age=31536000"));
    let signed_up = agent
        .post(&format!("{}/api/v1/citizens", server.base))
        .send_json(json!({"email": "tls@example.jp", "password": PASSWORD, "display_name": "T"}))
        .unwrap();
    assert_eq!(signed_up.status(), 201);

    // A client that does not trust the certificate is refused by its own TLS check, and plain
    // HTTP on the same port gets no answer at all.
    let untrusted = ureq::get(&format!("{}/healthz", server.base)).call();
    assert!(matches!(untrusted, Err(ureq::Error::Transport(_))), "{untrusted:?}");
    let plain = server.base.replacen("https://", "http://", 1);
    let plain = ureq::get(&format!("{plain}/healthz")).call();
    assert!(matches!(plain, Err(ureq::Error::Transport(_))), "{plain:?}");
    server.stop();
}

#[test]
fn tls_mistakes_are_named_at_start() {
    let cwd = tempfile::tempdir().unwrap();
    self_signed(cwd.path());
    let run = |envs: &[(&str, &Path)], args: &[&str]| {
        let mut cmd = infobank(cwd.path());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = cmd
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let cert = cwd.path().join("tls.crt");
    let (code, err) = run(&[("INFOBANK_TLS_CERT", &cert)], &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("INFOBANK_TLS_KEY"), "{err}");

    let missing = cwd.path().join("missing.key");
    let (code, err) = run(&[("INFOBANK_TLS_CERT", &cert), ("INFOBANK_TLS_KEY", &missing)], &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("missing.key"), "{err}");

    // The certificate where the key should be: no private key in it.
    let (code, err) = run(
        &[],
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            cert.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("tls.crt"), "{err}");

    // The flag without its partner is a usage error.
    let (code, err) = run(&[], &["--tls-cert", cert.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--tls-key"), "{err}");
    assert!(!cwd.path().join("data").exists(), "nothing was created");
}
