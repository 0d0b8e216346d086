//! Creating accounts.

use chrono::{DateTime, Utc};
use infobank_audit::{Action, Actor, AuditEvent};
use infobank_crypto::{DataKey, KeyRing, hash_password};
use infobank_db::diesel::prelude::*;
use infobank_db::diesel::result::{DatabaseErrorKind, Error as DieselError};
use infobank_db::schema::accounts;
use infobank_db::{DbConnection, write_transaction};

use crate::{AccountError, Role, check_password, normalize_email};

pub(crate) const EMAIL_INDEX_PURPOSE: &str = "account-email-index-v1";

/// Associated data for a sealed account field: the value opens only on its own row and column.
pub(crate) fn field_aad(account_id: &str, field: &str) -> Vec<u8> {
    format!("infobank-account|{account_id}|{field}").into_bytes()
}

pub struct NewAccount<'a> {
    pub role: Role,
    pub email: &'a str,
    pub password: &'a str,
    pub display_name: &'a str,
}

impl std::fmt::Debug for NewAccount<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccount")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

#[derive(Insertable)]
#[diesel(table_name = accounts)]
struct AccountRow<'a> {
    id: &'a str,
    role: &'a str,
    email_index: &'a str,
    email_sealed: &'a [u8],
    display_name_sealed: &'a [u8],
    password_hash: &'a str,
    dek_wrapped: &'a [u8],
    kek_version: i32,
    created_at: chrono::NaiveDateTime,
}

/// Creates an account and returns its id, with its `account.created` audit leaf in the same
/// transaction. The email must be unique across all roles. Citizens create their own accounts;
/// staff accounts are created by the bank (the CLI), which the leaf records as `system`.
pub fn create_account(
    conn: &mut DbConnection,
    keys: &KeyRing,
    new: &NewAccount<'_>,
    now: DateTime<Utc>,
) -> Result<String, AccountError> {
    let email = normalize_email(new.email).ok_or(AccountError::InvalidEmail)?;
    check_password(new.password).map_err(AccountError::WeakPassword)?;
    let kek = keys.current_kek().ok_or(AccountError::NoKek)?;

    let id = uuid::Uuid::now_v7().to_string();
    let dek = DataKey::generate()?;
    let row = AccountRow {
        id: &id,
        role: new.role.as_str(),
        email_index: &keys.blind_index(EMAIL_INDEX_PURPOSE).index(&email),
        email_sealed: &dek.seal(&field_aad(&id, "email"), email.as_bytes())?,
        display_name_sealed: &dek.seal(&field_aad(&id, "display_name"), new.display_name.trim().as_bytes())?,
        password_hash: &hash_password(new.password)?,
        dek_wrapped: &kek.wrap(&id, &dek)?,
        kek_version: i32::try_from(kek.version()).map_err(|_| AccountError::NoKek)?,
        created_at: now.naive_utc(),
    };
    let actor = match new.role {
        Role::Citizen => Actor::new(Role::Citizen.as_str(), &id),
        Role::Operator | Role::Regulator => Actor::system(),
    };
    let event = AuditEvent::new(Action::AccountCreated, actor).object("account", &id);
    // Hashing and sealing are done above, outside the transaction, to keep the lock short.
    write_transaction(conn, |conn| {
        match diesel::insert_into(accounts::table).values(&row).execute(conn) {
            Ok(_) => {}
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                return Err(AccountError::DuplicateEmail);
            }
            Err(e) => return Err(e.into()),
        }
        infobank_audit::append(conn, &event, now)?;
        Ok(id.clone())
    })
}
