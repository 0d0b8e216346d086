//! The reward policy: published, versioned, and the only source of every payout's amount.
//!
//! The parameters come from configuration (defaults below, documented in `docs/rewards.md`).
//! Publishing parameters that differ from the latest version creates the next version; payouts
//! record the version and their inputs, so a change never alters a past payout and anyone can
//! recompute every coin.

use std::collections::BTreeMap;

use chrono::{DateTime, SubsecRound as _, Utc};
use infobank_audit::{Action, Actor, AuditEvent, append};
use infobank_db::diesel::prelude::*;
use infobank_db::schema::reward_policies;
use infobank_db::{DbConnection, write_transaction};
use serde::{Deserialize, Serialize};

use crate::{CoinsError, MAX_AMOUNT};

/// How entrusting one category pays: `weight x units`, where
/// `units = min(ceil(records held / records_per_unit), monthly_cap_units)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryRule {
    /// Coins per unit: how valuable and how sensitive the category is.
    pub weight: i64,
    /// How many records make one unit (one record, or ten payment transactions).
    pub records_per_unit: i64,
    /// At most this many units are paid per citizen, category and calendar month.
    pub monthly_cap_units: i64,
}

impl CategoryRule {
    const fn new(weight: i64, records_per_unit: i64, monthly_cap_units: i64) -> Self {
        Self {
            weight,
            records_per_unit,
            monthly_cap_units,
        }
    }

    /// Units for a citizen who holds `records_held` records of the category.
    pub fn units(&self, records_held: i64) -> i64 {
        if records_held <= 0 || self.records_per_unit <= 0 {
            return 0;
        }
        // Both are positive here: this is the ceiling of the division.
        let units = (records_held + self.records_per_unit - 1) / self.records_per_unit;
        units.min(self.monthly_cap_units)
    }

    pub fn amount(&self, records_held: i64) -> i64 {
        self.weight.saturating_mul(self.units(records_held))
    }
}

/// The policy's parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardPolicy {
    /// Content x amount, per data category.
    pub categories: BTreeMap<String, CategoryRule>,
    /// Breadth: when the n-th distinct approved company receives a citizen's data in a month,
    /// the citizen gets `breadth_bonus_per_company x min(n, breadth_max_companies)`.
    pub breadth_bonus_per_company: i64,
    pub breadth_max_companies: i64,
    /// Predicate answers (since policy version 2): at a consent's first answer of a month, the
    /// citizen gets `predicate_answer x` the predicates answered (not `null`). Versions
    /// published before predicates existed read as 0.
    #[serde(default)]
    pub predicate_answer: i64,
    /// Statistics participation (since policy version 2): the first run of a month that counts
    /// the citizen in an offer's statistics pays this much. 0 in earlier versions.
    #[serde(default)]
    pub statistics_participation: i64,
}

/// The default rules, one per vault category (a test in the vault checks the two lists match).
/// Weights grow with how much the data says about a person and how sensitive it is; series
/// that grow daily are capped per month.
pub const DEFAULT_CATEGORY_RULES: [(&str, CategoryRule); 16] = [
    ("birth_date", CategoryRule::new(10, 1, 1)),
    ("residence", CategoryRule::new(20, 1, 1)),
    ("family_structure", CategoryRule::new(15, 1, 1)),
    ("hobbies", CategoryRule::new(5, 1, 1)),
    ("preferences", CategoryRule::new(5, 1, 1)),
    ("daily_mood", CategoryRule::new(2, 1, 10)),
    ("physical_condition", CategoryRule::new(4, 1, 10)),
    ("payment_history", CategoryRule::new(5, 10, 10)),
    ("education", CategoryRule::new(8, 1, 3)),
    ("employment", CategoryRule::new(12, 1, 3)),
    ("drivers_license", CategoryRule::new(10, 1, 1)),
    ("vehicle", CategoryRule::new(6, 1, 3)),
    ("real_estate", CategoryRule::new(12, 1, 3)),
    ("insurance", CategoryRule::new(8, 1, 3)),
    ("credit_card", CategoryRule::new(6, 1, 3)),
    ("identity_document", CategoryRule::new(10, 1, 1)),
];

impl Default for RewardPolicy {
    fn default() -> Self {
        Self {
            categories: DEFAULT_CATEGORY_RULES
                .iter()
                .map(|(name, rule)| ((*name).to_owned(), *rule))
                .collect(),
            breadth_bonus_per_company: 10,
            breadth_max_companies: 10,
            predicate_answer: 2,
            statistics_participation: 3,
        }
    }
}

/// Every parameter is at most this, so a payout (weight x units) is at most `MAX_AMOUNT`.
const PARAMETER_LIMIT: i64 = 1_000_000;
const _: () = assert!(PARAMETER_LIMIT * PARAMETER_LIMIT <= MAX_AMOUNT);

impl RewardPolicy {
    /// The breadth bonus for the `nth` distinct company of the month (1-based).
    pub fn breadth_bonus(&self, nth: i64) -> i64 {
        if nth <= 0 {
            return 0;
        }
        self.breadth_bonus_per_company
            .saturating_mul(nth.min(self.breadth_max_companies))
    }

    /// Refuses parameters that could pay a negative, absurd or undefined amount.
    pub fn validate(&self) -> Result<(), CoinsError> {
        let bad = |what: String| Err(CoinsError::InvalidPolicy(what));
        let limit = PARAMETER_LIMIT;
        for (name, rule) in &self.categories {
            if !(0..=limit).contains(&rule.weight) {
                return bad(format!("{name}: weight must be 0..={limit}"));
            }
            if !(1..=limit).contains(&rule.records_per_unit) {
                return bad(format!("{name}: records_per_unit must be 1..={limit}"));
            }
            if !(0..=limit).contains(&rule.monthly_cap_units) {
                return bad(format!("{name}: monthly_cap_units must be 0..={limit}"));
            }
        }
        if !(0..=limit).contains(&self.breadth_bonus_per_company) {
            return bad(format!("breadth_bonus_per_company must be 0..={limit}"));
        }
        if !(0..=limit).contains(&self.breadth_max_companies) {
            return bad(format!("breadth_max_companies must be 0..={limit}"));
        }
        if !(0..=limit).contains(&self.predicate_answer) {
            return bad(format!("predicate_answer must be 0..={limit}"));
        }
        if !(0..=limit).contains(&self.statistics_participation) {
            return bad(format!("statistics_participation must be 0..={limit}"));
        }
        Ok(())
    }

    /// The default policy with configured overrides applied.
    pub fn with_overrides(overrides: &PolicyOverrides) -> Result<Self, CoinsError> {
        let mut policy = Self::default();
        for (name, o) in &overrides.categories {
            let Some(rule) = policy.categories.get_mut(name) else {
                return Err(CoinsError::InvalidPolicy(format!("unknown category {name}")));
            };
            rule.weight = o.weight.unwrap_or(rule.weight);
            rule.records_per_unit = o.records_per_unit.unwrap_or(rule.records_per_unit);
            rule.monthly_cap_units = o.monthly_cap_units.unwrap_or(rule.monthly_cap_units);
        }
        if let Some(v) = overrides.breadth_bonus_per_company {
            policy.breadth_bonus_per_company = v;
        }
        if let Some(v) = overrides.breadth_max_companies {
            policy.breadth_max_companies = v;
        }
        if let Some(v) = overrides.predicate_answer {
            policy.predicate_answer = v;
        }
        if let Some(v) = overrides.statistics_participation {
            policy.statistics_participation = v;
        }
        policy.validate()?;
        Ok(policy)
    }
}

/// What a configuration file may change (`[rewards]` in the TOML file); every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyOverrides {
    #[serde(default)]
    pub categories: BTreeMap<String, RuleOverride>,
    pub breadth_bonus_per_company: Option<i64>,
    pub breadth_max_companies: Option<i64>,
    pub predicate_answer: Option<i64>,
    pub statistics_participation: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleOverride {
    pub weight: Option<i64>,
    pub records_per_unit: Option<i64>,
    pub monthly_cap_units: Option<i64>,
}

/// A version of the policy as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedPolicy {
    pub version: i32,
    pub published_at: DateTime<Utc>,
    pub policy: RewardPolicy,
}

fn from_row(
    (version, params, published_at): (i32, String, chrono::NaiveDateTime),
) -> Result<PublishedPolicy, CoinsError> {
    Ok(PublishedPolicy {
        version,
        published_at: published_at.and_utc(),
        policy: serde_json::from_str(&params)
            .map_err(|e| CoinsError::Corrupt(format!("reward policy v{version}: {e}")))?,
    })
}

/// The latest published version, if any.
pub fn latest(conn: &mut DbConnection) -> Result<Option<PublishedPolicy>, CoinsError> {
    reward_policies::table
        .order(reward_policies::version.desc())
        .select((
            reward_policies::version,
            reward_policies::params,
            reward_policies::published_at,
        ))
        .first(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

/// One published version.
pub fn version(conn: &mut DbConnection, version: i32) -> Result<Option<PublishedPolicy>, CoinsError> {
    reward_policies::table
        .find(version)
        .select((
            reward_policies::version,
            reward_policies::params,
            reward_policies::published_at,
        ))
        .first(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

/// Every version number with its publication time, oldest first.
pub fn versions(conn: &mut DbConnection) -> Result<Vec<(i32, DateTime<Utc>)>, CoinsError> {
    let rows: Vec<(i32, chrono::NaiveDateTime)> = reward_policies::table
        .order(reward_policies::version.asc())
        .select((reward_policies::version, reward_policies::published_at))
        .load(conn)?;
    Ok(rows.into_iter().map(|(v, at)| (v, at.and_utc())).collect())
}

fn publish_in_transaction(
    conn: &mut DbConnection,
    policy: &RewardPolicy,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<PublishedPolicy, CoinsError> {
    policy.validate()?;
    // Versions are consecutive: one publisher at a time.
    infobank_db::lock_key(conn, "reward_policy")?;
    let current = latest(conn)?;
    if let Some(current) = current.as_ref().filter(|c| c.policy == *policy) {
        return Ok(current.clone());
    }
    let version = current.map_or(1, |c| c.version + 1);
    let now = now.trunc_subsecs(6);
    let params = serde_json::to_string(policy).map_err(|e| CoinsError::InvalidPolicy(e.to_string()))?;
    diesel::insert_into(reward_policies::table)
        .values((
            reward_policies::version.eq(version),
            reward_policies::params.eq(&params),
            reward_policies::published_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    let event = AuditEvent::new(Action::RewardPolicyPublished, actor).object("reward_policy", &version.to_string());
    append(conn, &event, now)?;
    Ok(PublishedPolicy {
        version,
        published_at: now,
        policy: policy.clone(),
    })
}

/// Publishes `policy` as the next version unless it equals the latest one (then returns that).
/// The server calls it at start with the configured parameters.
pub fn publish(
    conn: &mut DbConnection,
    policy: &RewardPolicy,
    now: DateTime<Utc>,
) -> Result<PublishedPolicy, CoinsError> {
    write_transaction(conn, |conn| publish_in_transaction(conn, policy, Actor::system(), now))
}

/// The policy payouts are computed under: the latest version, or the defaults published as
/// version 1 on a database where nothing was published yet. Runs in the caller's transaction.
pub(crate) fn active(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<PublishedPolicy, CoinsError> {
    match latest(conn)? {
        Some(p) => Ok(p),
        None => publish_in_transaction(conn, &RewardPolicy::default(), Actor::system(), now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A policy published before predicates and statistics existed reads with both priced at 0
    /// (its payouts never paid them), and today's defaults differ from it, so publishing them on
    /// such a bank creates the next version.
    #[test]
    fn a_policy_from_before_predicates_reads_them_as_unpaid() {
        let mut stored = serde_json::to_value(RewardPolicy::default()).unwrap();
        let fields = stored.as_object_mut().unwrap();
        fields.remove("predicate_answer");
        fields.remove("statistics_participation");
        let old: RewardPolicy = serde_json::from_value(stored).unwrap();
        assert_eq!((old.predicate_answer, old.statistics_participation), (0, 0));
        assert_ne!(old, RewardPolicy::default());
        assert!(RewardPolicy::default().predicate_answer > 0);
        assert!(RewardPolicy::default().statistics_participation > 0);
    }

    #[test]
    fn units_round_up_and_stop_at_the_monthly_cap() {
        let payments = CategoryRule::new(5, 10, 10);
        assert_eq!(payments.units(0), 0);
        assert_eq!(payments.units(1), 1);
        assert_eq!(payments.units(10), 1);
        assert_eq!(payments.units(11), 2);
        assert_eq!(payments.units(1_000), 10);
        assert_eq!(payments.amount(25), 15);
        let residence = CategoryRule::new(20, 1, 1);
        assert_eq!(residence.amount(1), 20);
        assert_eq!(residence.amount(3), 20);
    }

    #[test]
    fn breadth_bonus_grows_with_the_number_of_companies_up_to_the_maximum() {
        let policy = RewardPolicy::default();
        let bonuses: Vec<i64> = (0..=12).map(|n| policy.breadth_bonus(n)).collect();
        assert_eq!(bonuses[0], 0);
        assert!(bonuses.windows(2).take(10).all(|w| w[1] > w[0]), "{bonuses:?}");
        assert_eq!(bonuses[11], bonuses[10]);
        assert_eq!(bonuses[3], 3 * policy.breadth_bonus_per_company);
    }

    #[test]
    fn overrides_change_only_what_they_name_and_bad_values_are_refused() {
        let mut overrides = PolicyOverrides::default();
        overrides.categories.insert(
            "residence".into(),
            RuleOverride {
                weight: Some(25),
                ..RuleOverride::default()
            },
        );
        let policy = RewardPolicy::with_overrides(&overrides).unwrap();
        assert_eq!(policy.categories["residence"], CategoryRule::new(25, 1, 1));
        assert_eq!(
            policy.categories["hobbies"],
            RewardPolicy::default().categories["hobbies"]
        );

        overrides.categories.insert("horoscope".into(), RuleOverride::default());
        assert!(
            matches!(RewardPolicy::with_overrides(&overrides), Err(CoinsError::InvalidPolicy(m)) if m.contains("horoscope"))
        );

        let zero_unit = PolicyOverrides {
            categories: [(
                "hobbies".to_owned(),
                RuleOverride {
                    records_per_unit: Some(0),
                    ..RuleOverride::default()
                },
            )]
            .into(),
            ..PolicyOverrides::default()
        };
        assert!(RewardPolicy::with_overrides(&zero_unit).is_err());
        let negative = PolicyOverrides {
            breadth_bonus_per_company: Some(-1),
            ..PolicyOverrides::default()
        };
        assert!(RewardPolicy::with_overrides(&negative).is_err());
    }
}
