//! The predicate catalogue: yes/no questions the bank answers from the vault so that a company
//! learns the answer and never the record ("20 or older", not the birth date). Fixed and typed:
//! a company picks predicates and parameters from here (`GET /api/v1/predicates`), and the
//! answer is computed inside the bank on the day of the disclosure.
//!
//! Pure: evaluation takes the citizen's opened records and `today`, nothing else, so every rule
//! is tested without a database.

use std::collections::BTreeMap;

use chrono::{Datelike as _, Duration, NaiveDate};
use infobank_vault::categories::{MERCHANT_CATEGORIES, category};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ConsentError;

/// At most this many predicates per offer.
pub const MAX_PREDICATES: usize = 8;

/// `spend_at_least` looks at a week at least: over a single day, thresholds asked daily would
/// draw a citizen's spending day by day.
pub const MIN_SPEND_DAYS: i64 = 7;

/// The type of one parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ParamType {
    Integer { min: i64, max: i64 },
    Text { max_chars: usize },
    Choice { options: &'static [&'static str] },
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct ParamSpec {
    pub name: &'static str,
    #[serde(flatten)]
    pub kind: ParamType,
}

/// One predicate of the catalogue.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PredicateSpec {
    pub name: &'static str,
    pub params: &'static [ParamSpec],
    /// The vault categories it reads (the consent covers these; nothing of them is disclosed).
    pub reads: &'static [&'static str],
    /// The question in words, `{param}` filled in: what the company learns.
    pub en: &'static str,
    pub ja: &'static str,
}

/// The categories `holds_valid` can ask about: documents with a validity.
const VALID_DOCUMENTS: &[&str] = &["drivers_license", "insurance", "identity_document"];

const fn int(name: &'static str, min: i64, max: i64) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamType::Integer { min, max },
    }
}

/// The catalogue.
static PREDICATES: &[PredicateSpec] = &[
    PredicateSpec {
        name: "age_at_least",
        params: &[int("years", 0, 150)],
        reads: &["birth_date"],
        en: "whether you are {years} or older",
        ja: "{years}歳以上かどうか",
    },
    PredicateSpec {
        name: "resides_in",
        params: &[ParamSpec {
            name: "prefecture",
            kind: ParamType::Text { max_chars: 20 },
        }],
        reads: &["residence"],
        en: "whether you live in {prefecture}",
        ja: "{prefecture}に住んでいるかどうか",
    },
    PredicateSpec {
        name: "household_size_at_least",
        params: &[int("n", 1, 30)],
        reads: &["family_structure"],
        en: "whether your household has {n} or more people",
        ja: "世帯人数が{n}人以上かどうか",
    },
    PredicateSpec {
        name: "holds_valid",
        params: &[ParamSpec {
            name: "category",
            kind: ParamType::Choice {
                options: VALID_DOCUMENTS,
            },
        }],
        reads: &[],
        en: "whether you hold a valid {category} (present and not expired today)",
        ja: "有効な{category}をお持ちかどうか（登録があり、今日時点で期限内）",
    },
    PredicateSpec {
        name: "spend_at_least",
        params: &[
            ParamSpec {
                name: "merchant_category",
                kind: ParamType::Choice {
                    options: MERCHANT_CATEGORIES,
                },
            },
            int("amount", 1, 100_000_000),
            int("days", MIN_SPEND_DAYS, 3650),
        ],
        reads: &["payment_history"],
        en: "whether you spent at least {amount} yen on {merchant_category} in the last {days} days",
        ja: "直近{days}日間に{merchant_category}で{amount}円以上支払ったかどうか",
    },
];

/// The catalogue as served.
pub fn catalogue() -> &'static [PredicateSpec] {
    PREDICATES
}

pub fn spec(name: &str) -> Option<&'static PredicateSpec> {
    PREDICATES.iter().find(|p| p.name == name)
}

/// A predicate as an offer asks for it: a name from the catalogue and its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Predicate {
    pub name: String,
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
}

impl Predicate {
    fn integer(&self, name: &str) -> i64 {
        self.params.get(name).and_then(Value::as_i64).unwrap_or_default()
    }

    fn text(&self, name: &str) -> &str {
        self.params.get(name).and_then(Value::as_str).unwrap_or_default()
    }

    /// The categories this predicate reads.
    pub fn reads(&self) -> Vec<&'static str> {
        match self.name.as_str() {
            "holds_valid" => category(self.text("category"))
                .map(|c| vec![c.name])
                .unwrap_or_default(),
            name => spec(name).map(|s| s.reads.to_vec()).unwrap_or_default(),
        }
    }

    /// The question in words, in English or Japanese. `label` names a category or a choice
    /// value in the language (the portal passes its catalogue; the API passes the code).
    pub fn describe(&self, japanese: bool, label: &dyn Fn(&str, &str) -> String) -> String {
        let Some(spec) = spec(&self.name) else {
            return self.name.clone();
        };
        let mut text = if japanese { spec.ja } else { spec.en }.to_owned();
        for p in spec.params {
            let value = match p.kind {
                ParamType::Integer { .. } => self.integer(p.name).to_string(),
                ParamType::Text { .. } => self.text(p.name).to_owned(),
                ParamType::Choice { .. } => label(p.name, self.text(p.name)),
            };
            text = text.replace(&format!("{{{}}}", p.name), &value);
        }
        text
    }
}

/// Checks predicates against the catalogue: known names, every parameter present, typed and in
/// range, none unknown, none asked twice. Returns them normalised (texts trimmed).
pub fn validate(asked: &[Predicate]) -> Result<Vec<Predicate>, ConsentError> {
    if asked.is_empty() || asked.len() > MAX_PREDICATES {
        return Err(ConsentError::invalid(
            "predicates",
            format!("ask for 1 to {MAX_PREDICATES} predicates; see GET /api/v1/predicates"),
        ));
    }
    let mut out: Vec<Predicate> = Vec::with_capacity(asked.len());
    for p in asked {
        let Some(spec) = spec(&p.name) else {
            return Err(ConsentError::invalid(
                "predicates",
                format!("no predicate {}; see GET /api/v1/predicates", p.name),
            ));
        };
        if let Some(extra) = p.params.keys().find(|k| !spec.params.iter().any(|s| s.name == *k)) {
            return Err(ConsentError::invalid(
                "predicates",
                format!("{} takes no parameter {extra}", p.name),
            ));
        }
        let mut params = BTreeMap::new();
        for s in spec.params {
            let value = p.params.get(s.name).unwrap_or(&Value::Null);
            params.insert(s.name.to_owned(), checked_param(p, s, value)?);
        }
        let normalised = Predicate {
            name: spec.name.to_owned(),
            params,
        };
        if out.contains(&normalised) {
            return Err(ConsentError::invalid(
                "predicates",
                format!("{} is asked twice", p.name),
            ));
        }
        out.push(normalised);
    }
    Ok(out)
}

fn checked_param(p: &Predicate, s: &ParamSpec, value: &Value) -> Result<Value, ConsentError> {
    let wrong = |what: String| ConsentError::invalid("predicates", format!("{}.{}: {what}", p.name, s.name));
    match s.kind {
        ParamType::Integer { min, max } => match value.as_i64() {
            Some(n) if (min..=max).contains(&n) => Ok(Value::from(n)),
            _ => Err(wrong(format!("must be an integer from {min} to {max}"))),
        },
        ParamType::Text { max_chars } => {
            let text = value.as_str().map(str::trim).unwrap_or_default();
            if text.is_empty() || text.chars().count() > max_chars || text.chars().any(char::is_control) {
                Err(wrong(format!("must be 1 to {max_chars} characters")))
            } else {
                Ok(Value::from(text))
            }
        }
        ParamType::Choice { options } => match value.as_str() {
            Some(v) if options.contains(&v) => Ok(Value::from(v)),
            _ => Err(wrong(format!("must be one of {}", options.join(", ")))),
        },
    }
}

/// The categories a set of predicates reads, each once, in catalogue order of first use.
pub fn categories_read(predicates: &[Predicate]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in predicates.iter().flat_map(Predicate::reads) {
        if !out.iter().any(|c| c == name) {
            out.push(name.to_owned());
        }
    }
    out
}

/// One answer as the company receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub name: String,
    pub params: BTreeMap<String, Value>,
    /// `null` when the citizen holds no record to decide it.
    pub value: Option<bool>,
}

impl Answer {
    /// The question it answers.
    pub fn predicate(&self) -> Predicate {
        Predicate {
            name: self.name.clone(),
            params: self.params.clone(),
        }
    }
}

/// The citizen's opened records by category (their `data` objects).
pub type Held = BTreeMap<String, Vec<Value>>;

fn date_field(record: &Value, field: &str) -> Option<NaiveDate> {
    record[field].as_str().and_then(|d| d.parse().ok())
}

/// The age in whole years on `today` of someone born on `born` (a birthday on 29 February
/// counts from 1 March in other years).
pub(crate) fn age_on(born: NaiveDate, today: NaiveDate) -> i64 {
    let before_birthday = (today.month(), today.day()) < (born.month(), born.day());
    i64::from(today.year() - born.year()) - i64::from(before_birthday)
}

/// Decides one predicate on `today`; `None` when the citizen holds nothing to decide it.
pub fn evaluate(p: &Predicate, held: &Held, today: NaiveDate) -> Option<bool> {
    let records = |name: &str| held.get(name).filter(|r| !r.is_empty());
    match p.name.as_str() {
        "age_at_least" => {
            let born = records("birth_date")?.iter().find_map(|r| date_field(r, "date"))?;
            Some(age_on(born, today) >= p.integer("years"))
        }
        "resides_in" => {
            let prefecture = records("residence")?.iter().find_map(|r| r["prefecture"].as_str())?;
            Some(prefecture.trim() == p.text("prefecture"))
        }
        "household_size_at_least" => {
            let size = records("family_structure")?
                .iter()
                .find_map(|r| r["household_size"].as_i64())?;
            Some(size >= p.integer("n"))
        }
        "holds_valid" => {
            let documents = records(p.text("category"))?;
            // A document without an expiry date does not expire; one that expires today is
            // still valid today.
            Some(
                documents
                    .iter()
                    .any(|d| date_field(d, "expires_on").is_none_or(|expires| expires >= today)),
            )
        }
        "spend_at_least" => {
            let payments = records("payment_history")?;
            let since = today - Duration::days(p.integer("days"));
            let wanted = p.text("merchant_category");
            let spent: i64 = payments
                .iter()
                .filter(|r| r["merchant_category"].as_str() == Some(wanted))
                .filter(|r| r["currency"].as_str() == Some("JPY"))
                .filter(|r| date_field(r, "date").is_some_and(|d| d > since && d <= today))
                .filter_map(|r| r["amount"].as_i64())
                .sum();
            Some(spent >= p.integer("amount"))
        }
        _ => None,
    }
}

/// Every predicate of an offer, decided.
pub fn answer_all(predicates: &[Predicate], held: &Held, today: NaiveDate) -> Vec<Answer> {
    predicates
        .iter()
        .map(|p| Answer {
            name: p.name.clone(),
            params: p.params.clone(),
            value: evaluate(p, held, today),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn predicate(v: Value) -> Predicate {
        serde_json::from_value(v).unwrap()
    }

    fn held(v: Value) -> Held {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn age_turns_on_the_birthday_and_a_leap_day_birthday_on_the_first_of_march() {
        let p = predicate(json!({"name": "age_at_least", "params": {"years": 20}}));
        let h = held(json!({"birth_date": [{"date": "2006-12-07"}]}));
        assert_eq!(evaluate(&p, &h, day("2026-12-06")), Some(false));
        assert_eq!(evaluate(&p, &h, day("2026-12-07")), Some(true));
        // Born on 29 February 2004: 20 years old from 1 March 2024 (a leap year, so also on
        // 29 February itself); 21 from 1 March 2025, a year without 29 February.
        let leap = held(json!({"birth_date": [{"date": "2004-02-29"}]}));
        assert_eq!(evaluate(&p, &leap, day("2024-02-28")), Some(false));
        assert_eq!(evaluate(&p, &leap, day("2024-02-29")), Some(true));
        let twenty_one = predicate(json!({"name": "age_at_least", "params": {"years": 21}}));
        assert_eq!(evaluate(&twenty_one, &leap, day("2025-02-28")), Some(false));
        assert_eq!(evaluate(&twenty_one, &leap, day("2025-03-01")), Some(true));
    }

    #[test]
    fn nothing_held_is_null_not_false() {
        for p in [
            json!({"name": "age_at_least", "params": {"years": 20}}),
            json!({"name": "resides_in", "params": {"prefecture": "Tokyo"}}),
            json!({"name": "household_size_at_least", "params": {"n": 2}}),
            json!({"name": "holds_valid", "params": {"category": "drivers_license"}}),
            json!({"name": "spend_at_least", "params": {"merchant_category": "grocery", "amount": 1, "days": 30}}),
        ] {
            let p = predicate(p);
            assert_eq!(evaluate(&p, &Held::new(), day("2026-12-07")), None, "{}", p.name);
            let empty: Held = p.reads().iter().map(|c| ((*c).to_owned(), vec![])).collect();
            assert_eq!(evaluate(&p, &empty, day("2026-12-07")), None, "{}", p.name);
        }
    }

    #[test]
    fn a_document_is_valid_through_its_expiry_day_and_without_an_expiry() {
        let p = predicate(json!({"name": "holds_valid", "params": {"category": "drivers_license"}}));
        let h = held(json!({"drivers_license": [{"expires_on": "2026-12-07"}]}));
        assert_eq!(evaluate(&p, &h, day("2026-12-07")), Some(true));
        assert_eq!(evaluate(&p, &h, day("2026-12-08")), Some(false));
        let renewed = held(json!({"drivers_license": [{"expires_on": "2020-01-01"}, {"expires_on": "2030-01-01"}]}));
        assert_eq!(evaluate(&p, &renewed, day("2026-12-08")), Some(true));
        let id = predicate(json!({"name": "holds_valid", "params": {"category": "identity_document"}}));
        let no_expiry = held(json!({"identity_document": [{"type": "passport"}]}));
        assert_eq!(evaluate(&id, &no_expiry, day("2026-12-08")), Some(true));
        assert_eq!(id.reads(), vec!["identity_document"]);
    }

    #[test]
    fn spend_counts_only_the_category_in_yen_within_the_window() {
        let p = predicate(json!({"name": "spend_at_least",
            "params": {"merchant_category": "grocery", "amount": 10000, "days": 30}}));
        let row = |date: &str, amount: i64, cat: &str, cur: &str| json!({"date": date, "amount": amount, "merchant_category": cat, "currency": cur});
        let h = held(json!({"payment_history": [
            row("2026-12-01", 6000, "grocery", "JPY"),
            row("2026-11-08", 3999, "grocery", "JPY"),
            row("2026-11-07", 50000, "grocery", "JPY"),
            row("2026-12-02", 50000, "restaurant", "JPY"),
            row("2026-12-03", 50000, "grocery", "USD"),
        ]}));
        // 6000 + 3999: the 7 November payment is 30 days back, outside the window.
        assert_eq!(evaluate(&p, &h, day("2026-12-07")), Some(false));
        let more = predicate(json!({"name": "spend_at_least",
            "params": {"merchant_category": "grocery", "amount": 9999, "days": 30}}));
        assert_eq!(evaluate(&more, &h, day("2026-12-07")), Some(true));
    }

    #[test]
    fn validation_refuses_unknown_missing_mistyped_out_of_range_and_repeated() {
        let bad = [
            json!([{"name": "is_rich"}]),
            json!([{"name": "age_at_least"}]),
            json!([{"name": "age_at_least", "params": {"years": "20"}}]),
            json!([{"name": "age_at_least", "params": {"years": 151}}]),
            json!([{"name": "age_at_least", "params": {"years": 20, "months": 1}}]),
            json!([{"name": "holds_valid", "params": {"category": "hobbies"}}]),
            json!([{"name": "resides_in", "params": {"prefecture": " "}}]),
            json!([{"name": "spend_at_least", "params": {"merchant_category": "yachts", "amount": 1, "days": 7}}]),
            json!([{"name": "spend_at_least", "params": {"merchant_category": "grocery", "amount": 1, "days": 1}}]),
            json!([{"name": "age_at_least", "params": {"years": 20}}, {"name": "age_at_least", "params": {"years": 20}}]),
            json!([]),
        ];
        for asked in bad {
            let asked: Vec<Predicate> = serde_json::from_value(asked.clone()).unwrap();
            assert!(validate(&asked).is_err(), "{asked:?} was accepted");
        }
        let ok: Vec<Predicate> = serde_json::from_value(json!([
            {"name": "resides_in", "params": {"prefecture": " Tokyo "}},
            {"name": "spend_at_least", "params": {"merchant_category": "grocery", "amount": 1, "days": 7}},
        ]))
        .unwrap();
        let valid = validate(&ok).unwrap();
        assert_eq!(valid[0].params["prefecture"], json!("Tokyo"));
        assert_eq!(categories_read(&valid), vec!["residence", "payment_history"]);
    }

    #[test]
    fn the_question_is_worded_with_its_parameters() {
        let p = predicate(json!({"name": "age_at_least", "params": {"years": 20}}));
        let code = |_: &str, v: &str| v.to_owned();
        assert_eq!(p.describe(false, &code), "whether you are 20 or older");
        assert_eq!(p.describe(true, &code), "20歳以上かどうか");
        let spend = predicate(json!({"name": "spend_at_least",
            "params": {"merchant_category": "grocery", "amount": 5000, "days": 30}}));
        assert_eq!(
            spend.describe(false, &code),
            "whether you spent at least 5000 yen on grocery in the last 30 days"
        );
        assert!(MERCHANT_CATEGORIES.contains(&"grocery"));
    }
}
