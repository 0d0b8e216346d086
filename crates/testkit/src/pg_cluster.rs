//! Where test databases come from: `INFOBANK_TEST_PG_URL` (an admin URL on which the harness may
//! create and drop databases), else a throwaway cluster this process starts with the machine's
//! `initdb` and `pg_ctl`, run as the `postgres` user when we are root (PostgreSQL refuses root).
//! A watchdog shell stops the cluster and deletes its directory when this process exits.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use diesel::Connection as _;
use diesel::pg::PgConnection;

pub const ENV_URL: &str = "INFOBANK_TEST_PG_URL";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The admin URL, or `None` when PostgreSQL is unavailable outside CI.
pub fn admin_url() -> Option<String> {
    static ADMIN: OnceLock<Option<String>> = OnceLock::new();
    ADMIN
        .get_or_init(|| {
            let attempt = match std::env::var(ENV_URL) {
                Ok(url) if !url.is_empty() => PgConnection::establish(&url)
                    .map(|_| url)
                    .map_err(|e| format!("{ENV_URL} is set but unreachable: {e}")),
                _ => start_throwaway_cluster(),
            };
            match attempt {
                Ok(url) => Some(url),
                Err(reason) if in_ci() => {
                    panic!("PostgreSQL is required under CI=true and could not be had: {reason}")
                }
                Err(reason) => {
                    eprintln!(
                        "\n********************************************************************\n\
                         SKIPPING PostgreSQL tests: {reason}\n\
                         Set {ENV_URL}=postgres://user@host:port/postgres or install PostgreSQL.\n\
                         ********************************************************************\n"
                    );
                    None
                }
            }
        })
        .clone()
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| format!("{shown}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{shown} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn pg_bindir() -> Result<PathBuf, String> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "no PostgreSQL installation found (no pg_config, no /usr/lib/postgresql)".to_owned())?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    candidates.sort();
    candidates
        .pop()
        .ok_or_else(|| "no initdb under /usr/lib/postgresql/*/bin".to_owned())
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// A command that runs `program` as the `postgres` user when we are root.
fn pg_command(program: &Path, as_postgres: bool) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// Starts a new cluster on a free port and returns its admin URL.
pub fn start_throwaway_cluster() -> Result<String, String> {
    let bindir = pg_bindir()?;
    let as_postgres = is_root();
    let dir = tempfile::Builder::new()
        .prefix("infobank-pg-")
        .tempdir()
        .map_err(|e| e.to_string())?
        .keep();
    if as_postgres {
        run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir))?;
    }
    let data = dir.join("data");
    run(pg_command(&bindir.join("initdb"), as_postgres)
        .arg("-D")
        .arg(&data)
        .args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        ]))?;
    let port = free_port()?;
    // Durability is pointless for a throwaway test cluster; speed is not.
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
        dir.display()
    );
    run(pg_command(&bindir.join("pg_ctl"), as_postgres)
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.join("log"))
        .args(["-w", "-t", "60", "-o", &options, "start"]))?;

    let stop = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {runas}'{pg_ctl}' -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf '{dir}'",
        pid = std::process::id(),
        runas = if as_postgres { "runuser -u postgres -- " } else { "" },
        pg_ctl = bindir.join("pg_ctl").display(),
        data = data.display(),
        dir = dir.display(),
    );
    Command::new("sh")
        .args(["-c", &stop])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting the cluster watchdog: {e}"))?;

    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    PgConnection::establish(&url).map_err(|e| format!("throwaway cluster started but refuses connections: {e}"))?;
    Ok(url)
}
