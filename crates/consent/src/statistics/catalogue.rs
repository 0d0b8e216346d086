//! What a statistics offer may ask: dimensions to group by and measures to compute, from a fixed
//! catalogue, with the vault categories each reads.

use serde::{Deserialize, Serialize};

use crate::ConsentError;

/// A dimension: what a cell is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Dimension {
    pub name: &'static str,
    pub reads: Option<&'static str>,
    /// One value per citizen (prefecture, age band, household size) or one per record of a
    /// series (month, merchant category): a citizen falls into one cell or into several.
    pub per_citizen: bool,
    pub en: &'static str,
    pub ja: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Measure {
    pub name: &'static str,
    pub reads: Option<&'static str>,
    pub en: &'static str,
    pub ja: &'static str,
}

pub static DIMENSIONS: &[Dimension] = &[
    Dimension {
        name: "prefecture",
        reads: Some("residence"),
        per_citizen: true,
        en: "prefecture",
        ja: "都道府県",
    },
    Dimension {
        name: "age_band",
        reads: Some("birth_date"),
        per_citizen: true,
        en: "age band (10 years)",
        ja: "年代（10歳刻み）",
    },
    Dimension {
        name: "household_size",
        reads: Some("family_structure"),
        per_citizen: true,
        en: "household size",
        ja: "世帯人数",
    },
    Dimension {
        name: "merchant_category",
        reads: Some("payment_history"),
        per_citizen: false,
        en: "merchant category",
        ja: "支払先の業種",
    },
    Dimension {
        name: "month",
        reads: None,
        per_citizen: false,
        en: "month",
        ja: "月",
    },
];

pub static MEASURES: &[Measure] = &[
    Measure {
        name: "citizens",
        reads: None,
        en: "number of people",
        ja: "人数",
    },
    Measure {
        name: "spend_sum",
        reads: Some("payment_history"),
        en: "total spend (yen)",
        ja: "支払額の合計（円）",
    },
    Measure {
        name: "spend_mean",
        reads: Some("payment_history"),
        en: "spend per person (yen)",
        ja: "一人あたりの支払額（円）",
    },
    Measure {
        name: "mood_mean",
        reads: Some("daily_mood"),
        en: "mean daily mood (1-5)",
        ja: "毎日の気分の平均（1〜5）",
    },
    Measure {
        name: "steps_mean",
        reads: Some("physical_condition"),
        en: "mean steps per day",
        ja: "1日あたりの平均歩数",
    },
];

pub fn dimension(name: &str) -> Option<&'static Dimension> {
    DIMENSIONS.iter().find(|d| d.name == name)
}

pub fn measure(name: &str) -> Option<&'static Measure> {
    MEASURES.iter().find(|m| m.name == name)
}

/// What a statistics offer asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatisticsSpec {
    pub dimensions: Vec<String>,
    pub measures: Vec<String>,
}

impl StatisticsSpec {
    /// Whether every dimension has one value per citizen: then the cells partition the
    /// participants and their counts add up (what complementary suppression relies on).
    pub fn partitions_citizens(&self) -> bool {
        self.dimensions
            .iter()
            .all(|d| dimension(d).is_some_and(|d| d.per_citizen))
    }

    pub fn has(&self, name: &str) -> bool {
        self.dimensions.iter().chain(&self.measures).any(|n| n == name)
    }

    /// The vault categories the statistics read, each once.
    pub fn categories_read(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let reads = self
            .dimensions
            .iter()
            .filter_map(|d| dimension(d).and_then(|d| d.reads))
            .chain(self.measures.iter().filter_map(|m| measure(m).and_then(|m| m.reads)));
        for name in reads {
            if !out.iter().any(|c| c == name) {
                out.push(name.to_owned());
            }
        }
        out
    }
}

/// Checks a spec against the catalogue: 1 to 3 dimensions and 1 to 5 measures, known and each
/// once; series dimensions only with a series measure they apply to. `citizens` is always
/// reported (suppression counts people) and is added if missing.
pub fn validate(spec: &StatisticsSpec) -> Result<StatisticsSpec, ConsentError> {
    let invalid = |message: String| ConsentError::invalid("statistics", message);
    if spec.dimensions.is_empty() || spec.dimensions.len() > 3 {
        return Err(invalid("ask for 1 to 3 dimensions".into()));
    }
    if spec.measures.is_empty() || spec.measures.len() > MEASURES.len() {
        return Err(invalid(format!("ask for 1 to {} measures", MEASURES.len())));
    }
    let mut seen: Vec<&str> = Vec::new();
    for d in &spec.dimensions {
        if dimension(d).is_none() {
            let known: Vec<&str> = DIMENSIONS.iter().map(|d| d.name).collect();
            return Err(invalid(format!("no dimension {d}; one of {}", known.join(", "))));
        }
        if seen.contains(&d.as_str()) {
            return Err(invalid(format!("{d} is listed twice")));
        }
        seen.push(d);
    }
    let mut measures = vec!["citizens".to_owned()];
    for m in &spec.measures {
        if measure(m).is_none() {
            let known: Vec<&str> = MEASURES.iter().map(|m| m.name).collect();
            return Err(invalid(format!("no measure {m}; one of {}", known.join(", "))));
        }
        if seen.contains(&m.as_str()) {
            return Err(invalid(format!("{m} is listed twice")));
        }
        seen.push(m);
        if m != "citizens" {
            measures.push(m.clone());
        }
    }
    let checked = StatisticsSpec {
        dimensions: spec.dimensions.clone(),
        measures,
    };
    let series_measure = ["spend_sum", "spend_mean", "mood_mean", "steps_mean"]
        .iter()
        .any(|m| checked.has(m));
    if checked.has("month") && !series_measure {
        return Err(invalid(
            "month needs a measure over a series: spend_sum, spend_mean, mood_mean or steps_mean".into(),
        ));
    }
    if checked.has("merchant_category") && (checked.has("mood_mean") || checked.has("steps_mean")) {
        return Err(invalid(
            "merchant_category applies to payments only: use it with citizens, spend_sum or spend_mean".into(),
        ));
    }
    if checked.has("merchant_category") && !(checked.has("spend_sum") || checked.has("spend_mean")) {
        return Err(invalid("merchant_category needs spend_sum or spend_mean".into()));
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(d: &[&str], m: &[&str]) -> StatisticsSpec {
        StatisticsSpec {
            dimensions: d.iter().map(|s| (*s).to_owned()).collect(),
            measures: m.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn validation_adds_citizens_and_refuses_what_cannot_be_computed() {
        let ok = validate(&spec(&["prefecture", "month"], &["spend_sum"])).unwrap();
        assert_eq!(ok.measures, vec!["citizens", "spend_sum"]);
        assert_eq!(ok.categories_read(), vec!["residence", "payment_history"]);
        assert!(!ok.partitions_citizens());
        assert!(
            validate(&spec(&["prefecture", "age_band"], &["citizens"]))
                .unwrap()
                .partitions_citizens()
        );
        for (d, m) in [
            (&[][..], &["citizens"][..]),
            (&["prefecture"], &[]),
            (&["postcode"], &["citizens"]),
            (&["prefecture"], &["income"]),
            (&["prefecture", "prefecture"], &["citizens"]),
            (&["month"], &["citizens"]),
            (&["merchant_category"], &["mood_mean"]),
            (&["merchant_category"], &["citizens"]),
            (&["prefecture", "age_band", "household_size", "month"], &["spend_sum"]),
        ] {
            assert!(validate(&spec(d, m)).is_err(), "{d:?} {m:?} was accepted");
        }
    }
}
