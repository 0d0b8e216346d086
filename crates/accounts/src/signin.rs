//! Signing in, with per-email throttling against password guessing.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use infobank_audit::{Action, Actor, AuditEvent};
use infobank_crypto::{DataKey, KeyRing, hash_password, verify_password};
use infobank_db::diesel::prelude::*;
use infobank_db::schema::{accounts, login_failures};
use infobank_db::{DbConnection, write_transaction};

use crate::signup::{EMAIL_INDEX_PURPOSE, field_aad};
use crate::{Account, AccountError, Profile, Role, normalize_email};

/// After this many failures within [`FAILURE_WINDOW`], further attempts are refused.
pub const FAILURE_LIMIT: usize = 5;
pub const FAILURE_WINDOW: Duration = Duration::minutes(15);

/// A hash to verify against when the email is unknown, so that an unknown email costs the same
/// time as a wrong password and timing does not reveal which accounts exist.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password for timing").unwrap_or_default())
}

/// Checks credentials. Throttling is keyed by the email's blind index whether or not an account
/// exists, so a 429 does not reveal that an address is registered either.
pub fn authenticate(
    conn: &mut DbConnection,
    keys: &KeyRing,
    email: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<Account, AccountError> {
    let email = normalize_email(email).ok_or(AccountError::InvalidCredentials)?;
    let email_index = keys.blind_index(EMAIL_INDEX_PURPOSE).index(&email);
    let window_start = (now - FAILURE_WINDOW).naive_utc();

    diesel::delete(
        login_failures::table
            .filter(login_failures::email_index.eq(&email_index))
            .filter(login_failures::failed_at.le(window_start)),
    )
    .execute(conn)?;
    let failures: Vec<NaiveDateTime> = login_failures::table
        .filter(login_failures::email_index.eq(&email_index))
        .select(login_failures::failed_at)
        .order(login_failures::failed_at.asc())
        .load(conn)?;
    if failures.len() >= FAILURE_LIMIT {
        // Allowed again once enough failures have left the window to fall under the limit.
        let frees_up = failures[failures.len() - FAILURE_LIMIT].and_utc() + FAILURE_WINDOW;
        // Rounded up: a client that waits exactly this long must not be refused again.
        let remaining_ms = (frees_up - now).num_milliseconds();
        let retry_after_secs = ((remaining_ms + 999) / 1000).max(1);
        return Err(AccountError::Throttled { retry_after_secs });
    }

    let found: Option<(String, String, String)> = accounts::table
        .filter(accounts::email_index.eq(&email_index))
        .select((accounts::id, accounts::role, accounts::password_hash))
        .first(conn)
        .optional()?;
    let verified = match &found {
        Some((_, _, hash)) => verify_password(password, hash),
        None => {
            verify_password(password, decoy_hash());
            false
        }
    };
    match found {
        Some((id, role, _)) if verified => {
            let role = Role::parse(&role).ok_or(AccountError::NotFound)?;
            write_transaction(conn, |conn| {
                diesel::delete(login_failures::table.filter(login_failures::email_index.eq(&email_index)))
                    .execute(conn)?;
                // Staff sign-ins are audited; a citizen's own sign-ins are their private business.
                if role != Role::Citizen {
                    let event =
                        AuditEvent::new(Action::StaffSignedIn, Actor::new(role.as_str(), &id)).object("account", &id);
                    infobank_audit::append(conn, &event, now)?;
                }
                Ok::<_, AccountError>(())
            })?;
            Ok(Account { id, role })
        }
        _ => {
            diesel::insert_into(login_failures::table)
                .values((
                    login_failures::id.eq(uuid::Uuid::now_v7().to_string()),
                    login_failures::email_index.eq(&email_index),
                    login_failures::failed_at.eq(now.naive_utc()),
                ))
                .execute(conn)?;
            Err(AccountError::InvalidCredentials)
        }
    }
}

/// Opens a data key as stored (`accounts.dek_wrapped` under KEK `kek_version`), for a caller that
/// read the wrapped key together with other columns; [`data_key`] reads it by itself.
pub fn unwrap_data_key(
    keys: &KeyRing,
    account_id: &str,
    kek_version: i32,
    wrapped: &[u8],
) -> Result<DataKey, AccountError> {
    let kek = u32::try_from(kek_version)
        .ok()
        .and_then(|v| keys.kek(v))
        .ok_or(AccountError::NoKek)?;
    Ok(kek.unwrap_key(account_id, wrapped)?)
}

/// The account's data key, which seals everything personal held about it. Only for work done on
/// the account owner's behalf; the key lives in memory for the length of a request.
pub fn data_key(conn: &mut DbConnection, keys: &KeyRing, account_id: &str) -> Result<DataKey, AccountError> {
    let (wrapped, kek_version): (Vec<u8>, i32) = accounts::table
        .find(account_id)
        .select((accounts::dek_wrapped, accounts::kek_version))
        .first(conn)
        .optional()?
        .ok_or(AccountError::NotFound)?;
    unwrap_data_key(keys, account_id, kek_version, &wrapped)
}

/// Whether an account of this role exists under this id. A bearer token is checked by its
/// signature alone; this tells a request that its token's holder was deleted since.
pub fn holds_role(conn: &mut DbConnection, account_id: &str, role: Role) -> Result<bool, AccountError> {
    let stored: Option<String> = accounts::table
        .find(account_id)
        .select(accounts::role)
        .first(conn)
        .optional()?;
    Ok(stored.as_deref() == Some(role.as_str()))
}

/// The sealed columns of an account, as stored.
#[derive(Queryable, Selectable)]
#[diesel(table_name = accounts)]
struct SealedProfile {
    role: String,
    email_sealed: Vec<u8>,
    display_name_sealed: Vec<u8>,
    dek_wrapped: Vec<u8>,
    kek_version: i32,
    created_at: NaiveDateTime,
}

/// Opens an account's personal fields for its owner.
pub fn profile(conn: &mut DbConnection, keys: &KeyRing, account_id: &str) -> Result<Profile, AccountError> {
    let row: SealedProfile = accounts::table
        .find(account_id)
        .select(SealedProfile::as_select())
        .first(conn)
        .optional()?
        .ok_or(AccountError::NotFound)?;
    let dek = unwrap_data_key(keys, account_id, row.kek_version, &row.dek_wrapped)?;
    let open = |field: &str, sealed: &[u8]| -> Result<String, AccountError> {
        let bytes = dek.open(&field_aad(account_id, field), sealed)?;
        String::from_utf8(bytes).map_err(|e| AccountError::Crypto(e.to_string()))
    };
    Ok(Profile {
        id: account_id.to_owned(),
        role: Role::parse(&row.role).ok_or(AccountError::NotFound)?,
        email: open("email", &row.email_sealed)?,
        display_name: open("display_name", &row.display_name_sealed)?,
        created_at: row.created_at.and_utc(),
    })
}
