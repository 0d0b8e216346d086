//! infobank-coins: citizens are paid in coins for what they entrust and for the approved
//! companies it reaches. The books always balance:
//!
//! - [`ledger`]: double-entry journal entries whose postings sum to zero, one idempotency key per
//!   entry, balances maintained per account (read in O(1)) that never go below zero;
//! - [`policy`]: the published, versioned reward policy and its formulas;
//! - [`rewards`]: the payouts (content x amount, breadth, offer rewards from escrow);
//! - [`funding`]: operators credit companies, and what a company holds and has reserved;
//! - [`redemption`]: citizens spend coins;
//! - [`statement`]: a wallet's history and its coins per month.
//!
//! Every write appends its audit leaf in the same transaction.

mod accounts;
mod error;
pub mod funding;
pub mod ledger;
pub mod policy;
pub mod redemption;
pub mod rewards;
pub mod statement;

pub use accounts::Account;
pub use error::CoinsError;
pub use ledger::{Entry, Posted, Posting, Reason};
pub use policy::{CategoryRule, PublishedPolicy, RewardPolicy};

/// The largest amount one request may move (a bound far above any real payout; it keeps sums
/// of many postings far from `i64` overflow).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;
