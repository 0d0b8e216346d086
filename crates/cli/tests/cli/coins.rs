//! `infobank coins …` and the configured reward policy, as an operator meets them.

use serde_json::Value;

use super::{Server, infobank};

fn run(cwd: &std::path::Path, args: &[&str], config: Option<&std::path::Path>) -> (i32, String, String) {
    let mut cmd = infobank(cwd);
    if let Some(path) = config {
        cmd.env("INFOBANK_CONFIG", path);
    }
    let out = cmd.args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn coins_fund_credits_once_per_key_and_the_books_check() {
    let cwd = tempfile::tempdir().unwrap();
    let company = "0190c0de-0000-7000-8000-000000000001";
    let (code, out, err) = run(
        cwd.path(),
        &["coins", "fund", company, "300", "--idempotency-key", "inv-1"],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let funded: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (funded["balance"].as_i64(), funded["replayed"].as_bool()),
        (Some(300), Some(false))
    );

    let (code, out, _) = run(
        cwd.path(),
        &["coins", "fund", company, "300", "--idempotency-key", "inv-1"],
        None,
    );
    assert_eq!(code, 0);
    let replay: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (replay["balance"].as_i64(), replay["replayed"].as_bool()),
        (Some(300), Some(true))
    );
    assert_eq!(replay["entry_id"], funded["entry_id"]);

    let (code, _, err) = run(
        cwd.path(),
        &["coins", "fund", company, "301", "--idempotency-key", "inv-1"],
        None,
    );
    assert_eq!(code, 1);
    assert!(err.contains("idempotency key"), "{err}");
    let (code, _, err) = run(cwd.path(), &["coins", "fund", "acme", "5"], None);
    assert_eq!(code, 1);
    assert!(err.contains("not a company id"), "{err}");
    let (code, _, err) = run(cwd.path(), &["coins", "fund", company, "0"], None);
    assert_eq!(code, 1);
    assert!(err.contains("invalid amount"), "{err}");
    let (code, _, _) = run(cwd.path(), &["coins", "fund", company, "lots"], None);
    assert_eq!(code, 2, "clap refuses a non-number");

    // Without a key every command is a new credit.
    let (code, out, _) = run(cwd.path(), &["coins", "fund", company, "50"], None);
    assert_eq!(code, 0);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["balance"], 350);
    let (code, out, _) = run(cwd.path(), &["coins", "company", company], None);
    assert_eq!(code, 0);
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (summary["balance"].as_i64(), summary["reserved"].as_i64()),
        (Some(350), Some(0))
    );
    let (code, out, err) = run(cwd.path(), &["coins", "check"], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ledger balances: 2 entries"), "{out}");
}

#[test]
fn a_changed_reward_policy_is_published_as_a_new_version() {
    let cwd = tempfile::tempdir().unwrap();
    assert_eq!(run(cwd.path(), &["migrate"], None).0, 0);
    let config = cwd.path().join("infobank.toml");
    std::fs::write(
        &config,
        "[rewards]\nbreadth_bonus_per_company = 12\n[rewards.categories.residence]\nweight = 25\n",
    )
    .unwrap();
    assert_eq!(run(cwd.path(), &["migrate"], Some(&config)).0, 0);
    assert_eq!(
        run(cwd.path(), &["migrate"], Some(&config)).0,
        0,
        "the same parameters again"
    );

    let mut cmd = infobank(cwd.path());
    cmd.env("INFOBANK_CONFIG", &config);
    let server = Server::start(cmd);
    let (status, body) = server.call("GET", "/api/v1/reward-policy", None);
    assert_eq!(status, 200);
    let policy: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(policy["version"], 2, "{policy}");
    assert_eq!(policy["categories"]["residence"]["weight"], 25);
    assert_eq!(policy["breadth_bonus_per_company"], 12);
    assert_eq!(policy["versions"].as_array().unwrap().len(), 2);
    let (_, v1) = server.call("GET", "/api/v1/reward-policy?version=1", None);
    assert_eq!(
        serde_json::from_str::<Value>(&v1).unwrap()["categories"]["residence"]["weight"],
        20
    );
    server.stop();

    std::fs::write(&config, "[rewards.categories.horoscope]\nweight = 5\n").unwrap();
    let (code, _, err) = run(cwd.path(), &["migrate"], Some(&config));
    assert_ne!(code, 0);
    assert!(err.contains("[rewards]") && err.contains("horoscope"), "{err}");
}
