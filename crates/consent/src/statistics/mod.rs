//! Statistical offers: a company learns cells of at least `k` people, computed inside the bank
//! over the consenting citizens' records, and never a person's data.
//!
//! - [`catalogue`]: the dimensions and measures an offer may ask;
//! - [`aggregate`]: the cells, the k-threshold, complementary suppression and the overlap rule
//!   (pure);
//! - [`run`]: one run of an offer, with its audit leaf, its participants and the coins.

pub mod aggregate;
pub mod catalogue;
pub mod run;
