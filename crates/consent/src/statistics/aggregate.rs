//! The statistics themselves, pure: cells from the participants' opened records, the k-threshold,
//! complementary suppression within one answer, and the overlap rule between answers.
//!
//! Why these three and not noise (docs/compliance.md, "Statistics"): a cell is released only
//! when at least `k` distinct people are in it; when the suppressed cells of one answer could be
//! recovered by subtracting the released ones from the participant count, more cells are
//! suppressed until what is hidden covers at least `k` people; and a run whose participants
//! differ from an earlier run of the same company by fewer than `k` people (but not by none) is
//! refused, so no two answers differ by one person (the differencing attack), and the same
//! people may not be counted again by other dimensions (linked tables). A measure computed from
//! fewer than `k` of a released cell's people is withheld. All of it is exact and deterministic,
//! so a company gets true numbers and a test can prove each rule; what it does not cover is in
//! docs/threat-model.md.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value};

use super::catalogue::StatisticsSpec;
use crate::predicates::{Held, age_on};

/// One released cell: its dimension values, the people counted and the measures asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    pub dimensions: Map<String, Value>,
    pub citizens: i64,
    #[serde(flatten)]
    pub measures: Map<String, Value>,
    /// Per measure, how many of the cell's people have a record it is computed from (a cell of
    /// 12 people with one mood diary must not publish her mean): never released.
    #[serde(skip)]
    pub contributors: BTreeMap<String, i64>,
}

/// A running total and how many values went into it.
type Total = (i64, i64);

/// What one citizen brings to one cell.
#[derive(Debug, Default, Clone)]
struct Share {
    /// Yen spent, and the number of payments in yen.
    spend: Total,
    mood: Total,
    steps: Total,
}

/// One cell while it is built: its people, their sums, and how many of them contributed to
/// each measure.
#[derive(Debug, Default, Clone)]
struct CellTotals {
    citizens: i64,
    spend: i64,
    mood: Total,
    steps: Total,
    spenders: i64,
    mood_people: i64,
    steps_people: i64,
}

/// One dimension value of a cell key (ordered, unlike a JSON value).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Number(i64),
    Text(String),
    /// Filled in per record (month, merchant category).
    Pending,
}

impl Part {
    fn text(value: Option<&str>) -> Option<Self> {
        value.map(|v| Self::Text(v.trim().to_owned()))
    }

    fn into_value(self) -> Value {
        match self {
            Self::Number(n) => Value::from(n),
            Self::Text(t) => Value::from(t),
            Self::Pending => Value::Null,
        }
    }
}

fn day_of(record: &Value) -> Option<NaiveDate> {
    record["date"].as_str().and_then(|d| d.parse().ok())
}

fn age_band(born: NaiveDate, today: NaiveDate) -> Option<String> {
    let age = age_on(born, today);
    (age >= 0).then(|| {
        let low = age / 10 * 10;
        format!("{low}-{}", low + 9)
    })
}

/// The value of a per-citizen dimension, if the citizen holds the record it needs.
fn citizen_value(dimension: &str, held: &Held, today: NaiveDate) -> Option<Part> {
    let first = |category: &str| held.get(category).and_then(|r| r.first());
    match dimension {
        "prefecture" => Part::text(first("residence")?["prefecture"].as_str()),
        "age_band" => age_band(day_of(first("birth_date")?)?, today).map(Part::Text),
        "household_size" => first("family_structure")?["household_size"].as_i64().map(Part::Number),
        _ => None,
    }
}

/// The series records that measures read, as (category, record); with `merchant_category` among
/// the dimensions only payments count (the other series have no merchant).
fn series<'a>(spec: &StatisticsSpec, held: &'a Held) -> Vec<(&'static str, &'a Value)> {
    let mut out = Vec::new();
    let payments_only = spec.has("merchant_category");
    let mut take = |category: &'static str| {
        for r in held.get(category).into_iter().flatten() {
            out.push((category, r));
        }
    };
    if spec.has("spend_sum") || spec.has("spend_mean") {
        take("payment_history");
    }
    if !payments_only && spec.has("mood_mean") {
        take("daily_mood");
    }
    if !payments_only && spec.has("steps_mean") {
        take("physical_condition");
    }
    out
}

fn add(share: &mut Share, category: &str, r: &Value) {
    match category {
        // Spend is counted in yen only: other currencies are not converted.
        "payment_history" if r["currency"].as_str() == Some("JPY") => {
            if let Some(amount) = r["amount"].as_i64() {
                share.spend = (share.spend.0.saturating_add(amount), share.spend.1 + 1);
            }
        }
        "daily_mood" => {
            if let Some(score) = r["score"].as_i64() {
                share.mood = (share.mood.0 + score, share.mood.1 + 1);
            }
        }
        "physical_condition" => {
            if let Some(steps) = r["steps"].as_i64() {
                share.steps = (share.steps.0 + steps, share.steps.1 + 1);
            }
        }
        _ => {}
    }
}

/// One citizen's shares, by cell key (the dimension values in the spec's order). A citizen
/// without a per-citizen dimension's record is in no cell; with series dimensions she is in one
/// cell per month or merchant category she has records in.
fn shares(spec: &StatisticsSpec, held: &Held, today: NaiveDate) -> BTreeMap<Vec<Part>, Share> {
    let mut base = Vec::with_capacity(spec.dimensions.len());
    for d in &spec.dimensions {
        match d.as_str() {
            "month" | "merchant_category" => base.push(Part::Pending),
            other => match citizen_value(other, held, today) {
                Some(v) => base.push(v),
                None => return BTreeMap::new(),
            },
        }
    }
    let mut out: BTreeMap<Vec<Part>, Share> = BTreeMap::new();
    if spec.partitions_citizens() {
        let share = out.entry(base).or_default();
        for (category, r) in series(spec, held) {
            add(share, category, r);
        }
        return out;
    }
    for (category, r) in series(spec, held) {
        let mut key = base.clone();
        for (i, d) in spec.dimensions.iter().enumerate() {
            match d.as_str() {
                "month" => {
                    if let Some(day) = day_of(r) {
                        key[i] = Part::Text(day.format("%Y-%m").to_string());
                    }
                }
                "merchant_category" => {
                    if let Some(category) = Part::text(r["merchant_category"].as_str()) {
                        key[i] = category;
                    }
                }
                _ => {}
            }
        }
        if key.contains(&Part::Pending) {
            continue;
        }
        add(out.entry(key).or_default(), category, r);
    }
    out
}

fn round(value: f64, places: i32) -> Value {
    let factor = 10f64.powi(places);
    serde_json::Number::from_f64((value * factor).round() / factor).map_or(Value::Null, Value::Number)
}

fn finish(spec: &StatisticsSpec, key: Vec<Part>, sums: &CellTotals) -> Cell {
    let dimensions = spec
        .dimensions
        .iter()
        .cloned()
        .zip(key.into_iter().map(Part::into_value))
        .collect();
    let mut measures = Map::new();
    let mut contributors = BTreeMap::new();
    let mean = |(total, n): Total, places| {
        if n == 0 {
            Value::Null
        } else {
            round(total as f64 / n as f64, places)
        }
    };
    for m in &spec.measures {
        let (value, people) = match m.as_str() {
            "spend_sum" => (Value::from(sums.spend), sums.spenders),
            "spend_mean" => (mean((sums.spend, sums.citizens), 0), sums.spenders),
            "mood_mean" => (mean(sums.mood, 2), sums.mood_people),
            "steps_mean" => (mean(sums.steps, 0), sums.steps_people),
            _ => continue,
        };
        measures.insert(m.clone(), value);
        contributors.insert(m.clone(), people);
    }
    Cell {
        dimensions,
        citizens: sums.citizens,
        measures,
        contributors,
    }
}

/// Every cell with its true count, before any suppression, in key order.
pub fn cells(spec: &StatisticsSpec, participants: &[Held], today: NaiveDate) -> Vec<Cell> {
    let mut sums: BTreeMap<Vec<Part>, CellTotals> = BTreeMap::new();
    for held in participants {
        for (key, share) in shares(spec, held, today) {
            let s = sums.entry(key).or_default();
            s.citizens += 1;
            s.spend = s.spend.saturating_add(share.spend.0);
            s.mood = (s.mood.0 + share.mood.0, s.mood.1 + share.mood.1);
            s.steps = (s.steps.0 + share.steps.0, s.steps.1 + share.steps.1);
            s.spenders += i64::from(share.spend.1 > 0);
            s.mood_people += i64::from(share.mood.1 > 0);
            s.steps_people += i64::from(share.steps.1 > 0);
        }
    }
    sums.into_iter().map(|(key, s)| finish(spec, key, &s)).collect()
}

/// The released cells and how many were suppressed.
#[derive(Debug, Clone, PartialEq)]
pub struct Released {
    pub cells: Vec<Cell>,
    pub suppressed: usize,
}

/// The k-threshold, then complementary suppression: when the cells partition the participants
/// (`additive`), `participants` minus the released counts is what the suppressed cells hold
/// together; while that is more than none but fewer than `k`, the smallest released cell is
/// suppressed too, so no suppressed count can be recovered by subtraction.
pub fn suppress(all: Vec<Cell>, participants: i64, k: i64, additive: bool) -> Released {
    let (mut cells, hidden): (Vec<Cell>, Vec<Cell>) = all.into_iter().partition(|c| c.citizens >= k);
    // A measure computed from fewer than k of the cell's people is withheld (null) even when the
    // cell is released: its people are counted, her mood is not published.
    for cell in &mut cells {
        for (measure, people) in &cell.contributors {
            if *people < k
                && let Some(value) = cell.measures.get_mut(measure)
            {
                *value = Value::Null;
            }
        }
    }
    let mut suppressed = hidden.len();
    if additive && suppressed > 0 {
        loop {
            let hidden_people = participants - cells.iter().map(|c| c.citizens).sum::<i64>();
            if hidden_people >= k || cells.is_empty() {
                break;
            }
            let smallest = cells
                .iter()
                .enumerate()
                .min_by_key(|(_, c)| c.citizens)
                .map(|(i, _)| i)
                .unwrap_or(0);
            cells.remove(smallest);
            suppressed += 1;
        }
    }
    Released { cells, suppressed }
}

/// An earlier run of the same company, as the overlap rule compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierRun {
    /// The dimensions it was cut by, e.g. `prefecture,month`.
    pub dimensions: String,
    /// Its participants' pseudonyms.
    pub participants: BTreeSet<String>,
}

/// Why a run may not go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooClose {
    /// Its participants differ from an earlier run's by this many people, more than none and
    /// fewer than k: the two answers would differ by those few people.
    Changed(i64),
    /// The very same people were counted by other dimensions: cells of one answer subtracted
    /// from the margins of the other would give away withheld cells (linked tables).
    OtherDimensions,
}

/// The overlap rule (module docs): whether a run over `now`, cut by `dimensions`, is too close
/// to an earlier run of the company.
pub fn too_close(now: &BTreeSet<String>, dimensions: &str, earlier: &[EarlierRun], k: i64) -> Option<TooClose> {
    let mut closest: Option<i64> = None;
    for then in earlier {
        let changed = i64::try_from(now.symmetric_difference(&then.participants).count()).unwrap_or(i64::MAX);
        if changed == 0 && then.dimensions != dimensions {
            return Some(TooClose::OtherDimensions);
        }
        if changed > 0 && changed < k {
            closest = Some(closest.map_or(changed, |c| c.min(changed)));
        }
    }
    closest.map(TooClose::Changed)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::statistics::catalogue::validate;

    fn spec(d: &[&str], m: &[&str]) -> StatisticsSpec {
        validate(&StatisticsSpec {
            dimensions: d.iter().map(|s| (*s).to_owned()).collect(),
            measures: m.iter().map(|s| (*s).to_owned()).collect(),
        })
        .unwrap()
    }

    fn citizen(prefecture: &str, born: &str, payments: &[(&str, i64, &str)]) -> Held {
        let payments: Vec<Value> = payments
            .iter()
            .map(|(date, amount, cat)| {
                json!({"date": date, "amount": amount, "currency": "JPY", "merchant_category": cat})
            })
            .collect();
        serde_json::from_value(json!({
            "residence": [{"prefecture": prefecture}],
            "birth_date": [{"date": born}],
            "payment_history": payments,
        }))
        .unwrap()
    }

    fn today() -> NaiveDate {
        "2026-12-07".parse().unwrap()
    }

    #[test]
    fn cells_count_people_once_and_sum_their_spend() {
        let s = spec(&["prefecture", "age_band"], &["spend_sum", "spend_mean"]);
        let people = [
            citizen(
                "Tokyo",
                "1990-01-01",
                &[("2026-12-01", 1000, "grocery"), ("2026-12-02", 500, "travel")],
            ),
            citizen("Tokyo", "1995-06-01", &[("2026-12-01", 3000, "grocery")]),
            citizen("Osaka", "1970-01-01", &[]),
        ];
        let cells = cells(&s, &people, today());
        assert_eq!(cells.len(), 2);
        let tokyo = cells.iter().find(|c| c.dimensions["prefecture"] == "Tokyo").unwrap();
        assert_eq!(tokyo.dimensions["age_band"], "30-39");
        assert_eq!(tokyo.citizens, 2);
        assert_eq!(tokyo.measures["spend_sum"], 4500);
        assert_eq!(tokyo.measures["spend_mean"], json!(2250.0));
        let osaka = cells.iter().find(|c| c.dimensions["prefecture"] == "Osaka").unwrap();
        assert_eq!((osaka.citizens, osaka.measures["spend_sum"].clone()), (1, json!(0)));
    }

    #[test]
    fn series_dimensions_put_a_person_in_each_month_and_category_she_spent_in() {
        let s = spec(&["merchant_category", "month"], &["spend_sum"]);
        let people = [
            citizen(
                "Tokyo",
                "1990-01-01",
                &[("2026-11-30", 1000, "grocery"), ("2026-12-01", 500, "grocery")],
            ),
            citizen(
                "Osaka",
                "1990-01-01",
                &[("2026-12-03", 700, "grocery"), ("2026-12-04", 300, "grocery")],
            ),
        ];
        let cells = cells(&s, &people, today());
        let december = cells.iter().find(|c| c.dimensions["month"] == "2026-12").unwrap();
        assert_eq!(
            (december.citizens, december.measures["spend_sum"].clone()),
            (2, json!(1500))
        );
        let november = cells.iter().find(|c| c.dimensions["month"] == "2026-11").unwrap();
        assert_eq!(november.citizens, 1);
    }

    fn counted(prefecture: &str, citizens: i64) -> Cell {
        Cell {
            dimensions: [("prefecture".to_owned(), Value::from(prefecture))]
                .into_iter()
                .collect(),
            citizens,
            measures: Map::new(),
            contributors: BTreeMap::new(),
        }
    }

    #[test]
    fn fewer_than_k_people_are_suppressed_and_k_are_released() {
        let released = suppress(vec![counted("Tokyo", 9)], 9, 10, true);
        assert_eq!((released.cells.len(), released.suppressed), (0, 1));
        let released = suppress(vec![counted("Tokyo", 10)], 10, 10, true);
        assert_eq!((released.cells.len(), released.suppressed), (1, 0));
    }

    #[test]
    fn a_lone_suppressed_cell_takes_the_smallest_released_cell_with_it() {
        // Releasing Tokyo (12) and Osaka (11) would give away Nara = 26 - 23 = 3.
        let all = vec![counted("Nara", 3), counted("Osaka", 11), counted("Tokyo", 12)];
        let released = suppress(all.clone(), 26, 10, true);
        assert_eq!(released.suppressed, 2);
        assert_eq!(released.cells, vec![counted("Tokyo", 12)]);
        // 3 + 11 hidden: no count can be recovered any more (14 people in two cells).
        // Not additive (a person in several cells): subtraction recovers nothing, k alone applies.
        let released = suppress(all, 26, 10, false);
        assert_eq!(released.suppressed, 1);
        // Hidden people not in any cell (no residence on file) count towards what is hidden.
        let released = suppress(vec![counted("Nara", 3), counted("Tokyo", 12)], 25, 10, true);
        assert_eq!((released.cells.len(), released.suppressed), (1, 1));
    }

    #[test]
    fn a_run_one_person_away_from_an_earlier_one_is_too_close() {
        let set = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
        let earlier = vec![EarlierRun {
            dimensions: "prefecture".into(),
            participants: set(&["a", "b", "c"]),
        }];
        let by_prefecture = |now: &[&str], k| too_close(&set(now), "prefecture", &earlier, k);
        assert_eq!(by_prefecture(&["a", "b", "c"], 2), None);
        assert_eq!(by_prefecture(&["a", "b", "c", "d"], 2), Some(TooClose::Changed(1)));
        assert_eq!(by_prefecture(&["a", "b"], 2), Some(TooClose::Changed(1)));
        assert_eq!(by_prefecture(&["a", "b", "d"], 3), Some(TooClose::Changed(2)));
        assert_eq!(by_prefecture(&["a", "b", "d"], 2), None);
        // The same people by other dimensions: linked tables.
        assert_eq!(
            too_close(&set(&["a", "b", "c"]), "prefecture,month", &earlier, 2),
            Some(TooClose::OtherDimensions)
        );
        // Other dimensions over k or more other people: allowed.
        assert_eq!(too_close(&set(&["d", "e"]), "month", &earlier, 2), None);
    }

    #[test]
    fn a_measure_from_fewer_than_k_of_the_cells_people_is_withheld() {
        let s = spec(&["prefecture"], &["spend_sum", "mood_mean"]);
        let mut people: Vec<Held> = (0..3)
            .map(|_| citizen("Tokyo", "1990-01-01", &[("2026-12-01", 1000, "grocery")]))
            .collect();
        people[0].insert("daily_mood".into(), vec![json!({"date": "2026-12-01", "score": 2})]);
        let released = suppress(cells(&s, &people, today()), 3, 3, true);
        assert_eq!(released.cells.len(), 1);
        assert_eq!(released.cells[0].measures["spend_sum"], 3000);
        assert_eq!(
            released.cells[0].measures["mood_mean"],
            Value::Null,
            "one diary of three"
        );
    }
}
