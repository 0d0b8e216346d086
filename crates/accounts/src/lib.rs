//! infobank-accounts: who may sign in, and how.
//!
//! Accounts of every role (citizen, operator, regulator), their credentials, sign-in throttling
//! and portal sessions. Personal values (email, display name) are sealed under a per-account
//! data key; the email is found again through a keyed blind index.

mod email;
mod error;
mod model;
mod password_policy;
pub mod rotation;
mod session;
mod signin;
mod signup;

pub use email::normalize_email;
pub use error::AccountError;
pub use model::{Account, Profile, Role};
pub use password_policy::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, check_password};
pub use session::{SESSION_LIFETIME, Session, end_session, find_session, start_session};
pub use signin::{FAILURE_LIMIT, FAILURE_WINDOW, authenticate, data_key, holds_role, profile, unwrap_data_key};
pub use signup::{NewAccount, create_account};
