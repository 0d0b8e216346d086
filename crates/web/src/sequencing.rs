//! The audit log's sequencer as a server task (the batch itself is `infobank_audit::sequencer`).
//!
//! Every node runs this task; on PostgreSQL exactly one of them sequences at a time: the one
//! holding a session-level advisory lock on a connection of its own, outside the pool. When that
//! node dies its session ends, the lock is free, and another node's next poll takes over. (The
//! batch is correct without the lock, since it takes the head row first; the lock only keeps
//! two nodes from queueing behind each other on it.) SQLite has one process, which sequences.
//!
//! It polls every [`POLL`] (configurable): a queued leaf waits at most that long plus one batch before it has
//! an index, and the head is signed at half the merge delay, so a leaf is under a signed head
//! within the merge delay.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use infobank_audit::sequencer::Sequencer;
use infobank_audit::{AuditError, sth};
use infobank_db::{DbConnection, Pool};

use crate::state::AppState;

/// How often the queue is looked at, by default.
pub const POLL: Duration = Duration::from_millis(25);

/// The advisory lock's key: "ibseq" in ASCII, any constant the bank uses for nothing else.
const LEADER_LOCK: i64 = 0x0069_6273_6571;

/// A poll does at most this many batches, so that a long backlog still lets the head be signed
/// and the task be stopped.
const BATCHES_PER_POLL: usize = 8;

/// What the task keeps between polls.
struct Leadership {
    conn: Option<DbConnection>,
    leader: bool,
    sequencer: Sequencer,
}

/// Integrates queued leaves, and signs heads, until the server stops. Integrates everything
/// queued at once when it starts (leaves a crash left queued).
pub async fn sequence_log(state: AppState) {
    let shared = Arc::new(Mutex::new(Leadership {
        conn: None,
        leader: false,
        sequencer: Sequencer::default(),
    }));
    loop {
        let shared = Arc::clone(&shared);
        let task_state = state.clone();
        let polled = actix_web::web::block(move || {
            // On SQLite the batches join the group commit like every other write.
            let _writing = task_state.group_writer.clone().map(infobank_db::group::enter);
            let mut guard = shared.lock().map_err(|_| SequencingError::Poisoned)?;
            poll(&mut guard, &task_state)
        })
        .await;
        match polled {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "audit sequencer: batch failed; will retry"),
            Err(e) => tracing::warn!(error = %e, "audit sequencer: task failed; will retry"),
        }
        actix_web::rt::time::sleep(state.sequencer_poll).await;
    }
}

fn poll(me: &mut Leadership, state: &AppState) -> Result<(), SequencingError> {
    let result = poll_once(me, state);
    if result.is_err() {
        // Start over with a new connection: a broken one must not keep the leadership hostage.
        me.conn = None;
        me.leader = false;
    }
    result
}

fn poll_once(me: &mut Leadership, state: &AppState) -> Result<(), SequencingError> {
    let conn = match &mut me.conn {
        Some(conn) => conn,
        None => me.conn.insert(connect(&state.pool)?),
    };
    if !me.leader {
        me.leader = try_lead(conn)?;
        if !me.leader {
            return Ok(());
        }
        tracing::info!("audit sequencer: this node sequences the log");
    }
    for _ in 0..BATCHES_PER_POLL {
        let batch = me.sequencer.integrate(conn)?;
        if let Some(oldest) = batch.oldest {
            let lag = (crate::clock::now() - oldest).to_std().unwrap_or_default();
            state.metrics.observe_batch(batch.len(), lag.as_secs_f64());
        }
        if batch.len() < infobank_audit::sequencer::DEFAULT_MAX_BATCH as u64 {
            break;
        }
    }
    let half_delay = chrono::Duration::milliseconds(i64::try_from(state.merge_delay.as_millis() / 2).unwrap_or(500));
    sth::current_within(conn, &state.log_signer, crate::clock::now(), half_delay)?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
enum SequencingError {
    #[error(transparent)]
    Connect(#[from] infobank_db::DbError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error("sequencer state poisoned by an earlier panic")]
    Poisoned,
}

impl From<infobank_db::diesel::result::Error> for SequencingError {
    fn from(e: infobank_db::diesel::result::Error) -> Self {
        Self::Audit(e.into())
    }
}

fn connect(pool: &Pool) -> Result<DbConnection, SequencingError> {
    Ok(pool.connect_dedicated()?)
}

/// Takes the sequencer's leadership if no other node holds it (always, on SQLite).
fn try_lead(conn: &mut DbConnection) -> Result<bool, SequencingError> {
    Ok(infobank_db::try_session_lock(conn, LEADER_LOCK)?)
}
