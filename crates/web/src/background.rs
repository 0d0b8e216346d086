//! Work a server does on its own, once per process (not per worker thread). The audit log's
//! sequencer, which also signs the tree heads, is in `crate::sequencing`.

use std::time::Duration;

use crate::state::AppState;

/// Every minute: expires consents whose time is up (each gets its leaf and final receipt, and
/// its reservation goes back to the company), then writes the citizens' reminders that have come
/// due (`infobank_consent::notices`). Disclosure refuses an expired consent on its own, by time;
/// this makes the status, the escrow and the inbox say so too. Both steps are idempotent, so two
/// nodes running them at once do each thing once.
pub async fn consent_upkeep(state: AppState) {
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
        match state
            .db(move |conn, _| infobank_consent::notices::remind_due(conn, now))
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(notices = n, "citizens reminded"),
            Err(e) => tracing::warn!(error = %e, "could not write reminders; will retry"),
        }
    }
}
