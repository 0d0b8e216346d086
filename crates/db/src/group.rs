//! Group commit for SQLite: many write transactions, one `COMMIT` and one fsync.
//!
//! SQLite has one writer at a time. Before this, every request's write transaction took the
//! write lock with its own `BEGIN IMMEDIATE`, and the others slept in SQLite's busy handler
//! (1, 2, 5 … 100 ms naps), which is where the long tail came from; each one then paid its own
//! fsync. Here one writer connection, shared by every request thread of the process, runs write
//! jobs one after the other inside a single open transaction, each in its own `SAVEPOINT` (a
//! failing job rolls back alone and gets its own error). The job that finds nobody queued behind
//! it commits, for everyone; the others wait for that commit and only then return. So a job
//! answers only once its effects are durable (`synchronous=FULL` stays), and a failed commit
//! fails every job of the group: none of them was answered yet.
//!
//! The queue is the writer's mutex itself, a fair hand-over between threads that are already
//! waiting, in place of the busy handler's sleeps. A group is closed at [`MAX_GROUP`] jobs so
//! that a steady stream of writers cannot keep a transaction open for ever.
//!
//! WAL checkpoints would otherwise run inside a request's commit, whenever the WAL passes 1,000
//! pages (an fsync of the database file under the lock); the writer turns them off and a
//! background thread checkpoints every second instead (`PASSIVE`: it never blocks a writer).
//!
//! Who uses it: `infobank_web::AppState::db` enters the writer for the duration of a request's
//! database work ([`enter`]), and [`crate::write_transaction`] then runs on it. Everything else
//! (the CLI, tests, a second process) keeps its own connection and `BEGIN IMMEDIATE`, and SQLite's
//! lock arbitrates between them and the writer as before.

use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, Connection, SimpleConnection as _, TransactionManager};

use crate::DbConnection;

/// At most this many jobs share one commit.
pub const MAX_GROUP: usize = 64;

/// How often the background thread checkpoints the WAL.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

type Manager = <DbConnection as Connection>::TransactionManager;

/// The shared writer of one SQLite database.
pub struct GroupWriter {
    state: Mutex<WriterState>,
    committed: Condvar,
    /// Threads waiting for the writer: while any is, the current job leaves the commit to them.
    queued: AtomicUsize,
    /// Groups ended (committed or not) and jobs run, since the start.
    groups: AtomicU64,
    jobs: AtomicU64,
}

impl std::fmt::Debug for GroupWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupWriter").finish_non_exhaustive()
    }
}

struct WriterState {
    conn: DbConnection,
    /// Whether the group's `BEGIN IMMEDIATE` is open.
    open: bool,
    /// The current (or last) group's number.
    group: u64,
    /// Jobs of the current group that succeeded and wait for its commit.
    waiting: usize,
    /// Jobs in the current group, succeeded or not.
    jobs: usize,
    /// Commit outcomes not yet read by every waiting job: group -> (outcome, readers left).
    outcomes: HashMap<u64, (Result<(), String>, usize)>,
}

/// Why a job's transaction did not commit, besides its own error.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error("the group commit failed: {0}")]
    Commit(String),
    #[error("the shared writer is unusable after a panic")]
    Poisoned,
}

impl GroupError {
    fn into_diesel(self) -> diesel::result::Error {
        diesel::result::Error::QueryBuilderError(Box::new(self))
    }
}

impl GroupWriter {
    /// Takes `conn` (a connection to the SQLite database, with the pool's pragmas) as the writer
    /// and starts the checkpoint thread, which stops when the writer is dropped.
    pub fn new(mut conn: DbConnection, checkpointer: DbConnection) -> Result<Arc<Self>, diesel::result::Error> {
        conn.batch_execute("PRAGMA wal_autocheckpoint = 0;")?;
        let writer = Arc::new(Self {
            state: Mutex::new(WriterState {
                conn,
                open: false,
                group: 0,
                waiting: 0,
                jobs: 0,
                outcomes: HashMap::new(),
            }),
            committed: Condvar::new(),
            queued: AtomicUsize::new(0),
            groups: AtomicU64::new(0),
            jobs: AtomicU64::new(0),
        });
        spawn_checkpointer(Arc::downgrade(&writer), checkpointer);
        Ok(writer)
    }

    /// Runs `work` as one job of a group: in a savepoint of the group's transaction, returning
    /// only once the group has committed (or with the job's own error at once).
    pub fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let locked = self.state.lock();
        self.queued.fetch_sub(1, Ordering::SeqCst);
        let mut state = locked.map_err(|_| GroupError::Poisoned.into_diesel())?;
        if !state.open {
            if let DbConnection::Sqlite(inner) = &mut state.conn {
                AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
            }
            state.open = true;
            state.group += 1;
            state.waiting = 0;
            state.jobs = 0;
        }
        let group = state.group;
        state.jobs += 1;
        self.jobs.fetch_add(1, Ordering::Relaxed);

        let result = match catch_unwind(AssertUnwindSafe(|| savepoint(&mut state.conn, work))) {
            Ok(result) => result,
            Err(panic) => {
                // What the job left behind is unknown: the whole group goes.
                self.finish(&mut state, group, Err("a job of the group panicked".into()), true);
                drop(state);
                resume_unwind(panic);
            }
        };

        let last = self.queued.load(Ordering::SeqCst) == 0 || state.jobs >= MAX_GROUP;
        match (result, last) {
            (result, true) => {
                let outcome = commit(&mut state.conn);
                let failed = outcome.is_err();
                self.finish(&mut state, group, outcome.clone(), failed);
                drop(state);
                match (result, outcome) {
                    (Ok(value), Ok(())) => Ok(value),
                    (Ok(_), Err(e)) => Err(GroupError::Commit(e).into_diesel().into()),
                    (Err(e), _) => Err(e),
                }
            }
            // Failed and not the last: its savepoint is rolled back, nothing of it will commit.
            (Err(e), false) => Err(e),
            (Ok(value), false) => {
                state.waiting += 1;
                let outcome = self.wait_for(state, group)?;
                outcome
                    .map(|()| value)
                    .map_err(|e| GroupError::Commit(e).into_diesel().into())
            }
        }
    }

    /// `(groups, jobs)` since the start: jobs per group is what group commit saves.
    pub fn counts(&self) -> (u64, u64) {
        (self.groups.load(Ordering::Relaxed), self.jobs.load(Ordering::Relaxed))
    }

    /// Ends the open group (committed or rolled back) and wakes the jobs that wait for it.
    fn finish(&self, state: &mut WriterState, group: u64, outcome: Result<(), String>, roll_back: bool) {
        if roll_back {
            let _ = Manager::rollback_transaction(&mut state.conn);
        }
        state.open = false;
        self.groups.fetch_add(1, Ordering::Relaxed);
        if state.waiting > 0 {
            state.outcomes.insert(group, (outcome, state.waiting));
        }
        state.waiting = 0;
        self.committed.notify_all();
    }

    fn wait_for(
        &self,
        mut state: MutexGuard<'_, WriterState>,
        group: u64,
    ) -> Result<Result<(), String>, diesel::result::Error> {
        loop {
            state = self
                .committed
                .wait(state)
                .map_err(|_| GroupError::Poisoned.into_diesel())?;
            if let Some((outcome, readers)) = state.outcomes.get_mut(&group) {
                let outcome = outcome.clone();
                *readers -= 1;
                if *readers == 0 {
                    state.outcomes.remove(&group);
                }
                return Ok(outcome);
            }
        }
    }
}

/// One job in its own savepoint (diesel issues `SAVEPOINT` inside an open transaction).
fn savepoint<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    Manager::begin_transaction(conn)?;
    match work(conn) {
        Ok(value) => match Manager::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = Manager::rollback_transaction(conn);
                Err(e.into())
            }
        },
        Err(e) => {
            let _ = Manager::rollback_transaction(conn);
            Err(e)
        }
    }
}

fn commit(conn: &mut DbConnection) -> Result<(), String> {
    Manager::commit_transaction(conn).map_err(|e| {
        // A failed COMMIT can leave the transaction open; end it.
        let _ = Manager::rollback_transaction(conn);
        e.to_string()
    })
}

fn spawn_checkpointer(writer: Weak<GroupWriter>, mut conn: DbConnection) {
    let spawned = std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            loop {
                std::thread::sleep(CHECKPOINT_EVERY);
                if writer.upgrade().is_none() {
                    return;
                }
                // A failed checkpoint is retried a second later; the WAL just grows meanwhile.
                if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE);") {
                    tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no WAL checkpoint thread: SQLite's own checkpoints stay off");
    }
}

thread_local! {
    /// The writer this thread's write transactions run on, while a request's work runs.
    static CURRENT: RefCell<Option<Arc<GroupWriter>>> = const { RefCell::new(None) };
}

/// Routes this thread's write transactions to `writer` until the guard is dropped.
pub fn enter(writer: Arc<GroupWriter>) -> Entered {
    let previous = CURRENT.with(|c| c.borrow_mut().replace(writer));
    Entered { previous }
}

/// See [`enter`].
#[must_use = "the writer is used only while the guard lives"]
pub struct Entered {
    previous: Option<Arc<GroupWriter>>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// The writer entered on this thread, taken out for the duration of one job (so that a nested
/// write transaction inside the job does not queue behind itself).
pub(crate) fn take_current() -> Option<Entered> {
    CURRENT
        .with(|c| c.borrow_mut().take())
        .map(|writer| Entered { previous: Some(writer) })
}

impl Entered {
    pub(crate) fn writer(&self) -> Option<&Arc<GroupWriter>> {
        self.previous.as_ref()
    }
}
