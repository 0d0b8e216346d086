//! `infobank demo`: a believable bank on an empty database, on SQLite and PostgreSQL; the same
//! seed draws the same bank; the log reconciles with the tables and the books balance; a
//! database that holds data is refused.

use std::path::Path;

use infobank_testkit::TestDb;

use super::infobank;

fn run(cwd: &Path, db: Option<&TestDb>, args: &[&str]) -> (i32, String, String) {
    let mut cmd = infobank(cwd);
    if let Some(db) = db {
        cmd.env("INFOBANK_DATABASE_URL", db.url.to_string());
    }
    let out = cmd.args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The summary without its timing, and the sign-in lines without their secrets: what the seed
/// decides.
fn drawn(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|line| {
            if let Some(rest) = line.strip_prefix("demo bank seeded in ") {
                return rest.split_once(": ").map(|(_, counts)| counts.to_owned());
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["citizen" | "operator" | "regulator", who, ..] => Some(format!("{} {who}", words[0])),
                _ => None,
            }
        })
        .collect()
}

fn seeds_once_reconciles_and_repeats_from_its_seed(first: Option<TestDb>, second: Option<TestDb>) {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let args = ["demo", "--citizens", "24", "--seed", "7"];
    let (code, out, err) = run(a.path(), first.as_ref(), &args);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(": 24 citizens, "), "{out}");
    for role in ["citizen", "company", "operator", "regulator"] {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(role) && l.contains(" at http://")),
            "no {role} sign-in in {out}"
        );
    }
    assert!(
        out.contains("citizen    ") && out.contains("@citizens.demo.infobank.example"),
        "{out}"
    );

    // Every row has its leaf and every leaf its row; the coin books balance.
    let (code, out_reconcile, err) = run(a.path(), first.as_ref(), &["audit", "reconcile"]);
    assert_eq!(code, 0, "{out_reconcile}{err}");
    assert!(out_reconcile.starts_with("consistent"), "{out_reconcile}");
    let (code, _, err) = run(a.path(), first.as_ref(), &["coins", "check"]);
    assert_eq!(code, 0, "{err}");

    // Not twice on the same database.
    let (code, _, err) = run(a.path(), first.as_ref(), &args);
    assert_eq!(code, 1);
    assert!(err.contains("the database is not empty"), "{err}");

    // The same seed on another empty database: the same people, consents and counts.
    let (code, again, err) = run(b.path(), second.as_ref(), &args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(drawn(&again), drawn(&out));
    assert_eq!(drawn(&out).len(), 4, "{out}");
    let (code, other_seed, err) = run(
        tempfile::tempdir().unwrap().path(),
        None,
        &["demo", "--citizens", "24", "--seed", "8"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(drawn(&other_seed).len(), 4, "{other_seed}");
    assert_ne!(drawn(&other_seed), drawn(&out), "another seed, another bank");
}

#[test]
fn a_demo_of_one_citizen_seeds_and_reconciles() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(dir.path(), None, &["demo", "--citizens", "1"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(": 1 citizens, "), "{out}");
    let (code, out, err) = run(dir.path(), None, &["audit", "reconcile"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = run(dir.path(), None, &["demo", "--citizens", "0"]);
    assert_eq!(code, 2, "zero citizens is a usage error: {err}");
}

#[test]
fn demo_on_sqlite() {
    seeds_once_reconciles_and_repeats_from_its_seed(None, None);
}

#[test]
fn demo_on_postgres() {
    let (Some(first), Some(second)) = (TestDb::postgres(), TestDb::postgres()) else {
        return;
    };
    seeds_once_reconciles_and_repeats_from_its_seed(Some(first), Some(second));
}
