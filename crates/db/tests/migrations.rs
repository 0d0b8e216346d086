//! Migrations: both backends have the same folders, every `down.sql` undoes its `up.sql`, and
//! pooled SQLite connections carry the production pragmas and the bundled SQLite its build flags.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)] // tests use the real clock

use std::collections::BTreeSet;
use std::path::Path;

use diesel::QueryableByName;
use diesel::RunQueryDsl as _;
use diesel::sql_types::{BigInt, Text};
use diesel_migrations::MigrationHarness as _;
use infobank_db::{DbConnection, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS, is_fully_migrated, run_migrations};
use infobank_testkit::{TestDb, db_tests};

fn folder_names(backend: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(backend);
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            assert!(path.join("up.sql").is_file(), "{} has no up.sql", path.display());
            assert!(path.join("down.sql").is_file(), "{} has no down.sql", path.display());
            path.file_name().unwrap().to_string_lossy().into_owned()
        })
        .collect()
}

#[test]
fn both_backends_have_the_same_migration_folders() {
    let sqlite = folder_names("sqlite");
    let postgres = folder_names("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct SchemaLine {
    #[diesel(sql_type = Text)]
    line: String,
}

/// Every table, column, index and constraint, as sorted text lines.
fn schema(conn: &mut DbConnection) -> Vec<String> {
    let query = match conn {
        DbConnection::Sqlite(_) => {
            "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') AS line FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations'"
        }
        DbConnection::Postgres(_) => {
            "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, '') AS line \
               FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' \
             UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '__diesel_schema_migrations' \
             UNION ALL SELECT 'constraint ' || conrelid::regclass::text || ' ' || pg_get_constraintdef(oid) FROM pg_constraint \
               WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '__diesel_schema_migrations' \
             UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal"
        }
    };
    let mut lines: Vec<String> = diesel::sql_query(query)
        .load::<SchemaLine>(conn)
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect();
    lines.sort();
    lines
}

fn apply_next(conn: &mut DbConnection) {
    match conn {
        DbConnection::Sqlite(c) => c.run_next_migration(SQLITE_MIGRATIONS).map(|_| ()),
        DbConnection::Postgres(c) => c.run_next_migration(POSTGRES_MIGRATIONS).map(|_| ()),
    }
    .unwrap();
}

fn revert_last(conn: &mut DbConnection) {
    match conn {
        DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS).map(|_| ()),
        DbConnection::Postgres(c) => c.revert_last_migration(POSTGRES_MIGRATIONS).map(|_| ()),
    }
    .unwrap();
}

fn every_down_reverses_its_up(db: &TestDb) {
    let pool = db.pool_unmigrated();
    let mut conn = pool.get().unwrap();
    let count = folder_names("sqlite").len();
    for step in 0..count {
        let before = schema(&mut conn);
        apply_next(&mut conn);
        let applied = schema(&mut conn);
        assert_ne!(before, applied, "migration {step} changed nothing");
        revert_last(&mut conn);
        assert_eq!(
            before,
            schema(&mut conn),
            "down.sql of migration {step} does not undo its up.sql"
        );
        apply_next(&mut conn);
        assert_eq!(
            applied,
            schema(&mut conn),
            "migration {step} is not repeatable after a revert"
        );
    }
    assert!(is_fully_migrated(&mut conn).unwrap());
}

fn migrations_are_idempotent_and_readiness_follows_them(db: &TestDb) {
    let pool = db.pool_unmigrated();
    let mut conn = pool.get().unwrap();
    assert!(!is_fully_migrated(&mut conn).unwrap());
    let first = run_migrations(&mut conn).unwrap();
    assert_eq!(first.len(), folder_names("sqlite").len());
    assert!(is_fully_migrated(&mut conn).unwrap());
    assert!(run_migrations(&mut conn).unwrap().is_empty());
}

db_tests!(
    every_down_reverses_its_up,
    migrations_are_idempotent_and_readiness_follows_them
);

#[derive(QueryableByName)]
struct Pragma {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

#[derive(QueryableByName)]
struct PragmaText {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

#[test]
fn pooled_sqlite_connections_carry_the_production_pragmas() {
    let db = TestDb::sqlite();
    let pool = db.pool();
    // Every connection of the pool, not only the first.
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut conn = pool.get().unwrap();
        let fk: Pragma = diesel::sql_query("SELECT foreign_keys AS value FROM pragma_foreign_keys")
            .get_result(&mut *conn)
            .unwrap();
        let busy: Pragma = diesel::sql_query("SELECT timeout AS value FROM pragma_busy_timeout")
            .get_result(&mut *conn)
            .unwrap();
        let sync: Pragma = diesel::sql_query("SELECT synchronous AS value FROM pragma_synchronous")
            .get_result(&mut *conn)
            .unwrap();
        let wal: PragmaText = diesel::sql_query("SELECT journal_mode FROM pragma_journal_mode")
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(fk.value, 1);
        assert_eq!(busy.value, 10_000);
        assert_eq!(sync.value, 2, "synchronous = FULL");
        assert_eq!(wal.journal_mode, "wal");
        held.push(conn);
    }
}

/// The bundled SQLite is built with its query planner stability guarantee (`.cargo/config.toml`
/// sets `LIBSQLITE3_FLAGS`). Without it, SQLite recompiles every cached statement that binds its
/// `LIMIT` (each diesel `.first()`) on every run, which cost a quarter of a disclosure's CPU
/// (docs/performance.md). A build that lost the flag fails here, not silently in production.
#[test]
fn sqlite_plans_are_stable() {
    #[derive(QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = Text)]
        compile_options: String,
    }
    let db = TestDb::sqlite();
    let pool = db.pool();
    let options: Vec<CompileOption> = diesel::sql_query("SELECT compile_options FROM pragma_compile_options")
        .load(&mut *pool.get().unwrap())
        .unwrap();
    let options: Vec<String> = options.into_iter().map(|o| o.compile_options).collect();
    assert!(options.iter().any(|o| o == "ENABLE_QPSG"), "{options:?}");
}
