//! Work a server does on its own, once per process (not per worker thread). The audit log's
//! sequencer, which also signs the tree heads, is in `crate::sequencing`.

use std::time::Duration;

use crate::state::AppState;

/// Expires consents whose time is up, every minute: each gets its leaf and final receipt, and
/// its reservation goes back to the company. (Disclosure refuses an expired consent on its own,
/// by time; this makes the status and the escrow say so too.)
pub async fn expire_consents(state: AppState) {
    let mut tick = actix_web::rt::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        let tokens = state.tokens.clone();
        let now = crate::clock::now();
        match state
            .db(move |conn, _| infobank_consent::consents::expire_due(conn, &tokens, now, 500))
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "consents expired"),
            Err(e) => tracing::warn!(error = %e, "could not expire consents; will retry"),
        }
    }
}
