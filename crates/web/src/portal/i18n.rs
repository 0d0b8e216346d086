//! The message catalogue: every user-facing string of the portal, in English and Japanese.
//! Language comes from the `lang` cookie (set by the switch in the page), else `Accept-Language`,
//! else English.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ja,
}

pub const LANG_COOKIE: &str = "lang";

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];

    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ja => "ja",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Self::En),
            "ja" => Some(Self::Ja),
            _ => None,
        }
    }

    /// Picks the supported language with the highest q-value; `ja-JP` counts as `ja`.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut best: Option<(Lang, f32)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or_default().trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or_default();
            if let Some(lang) = Self::parse(primary)
                && q > 0.0
                && best.is_none_or(|(_, bq)| q > bq)
            {
                best = Some((lang, q));
            }
        }
        best.map(|(lang, _)| lang)
    }
}

const EN: &str = include_str!("../../locales/en.toml");
const JA: &str = include_str!("../../locales/ja.toml");

pub struct Catalogue {
    en: BTreeMap<String, String>,
    ja: BTreeMap<String, String>,
}

impl Catalogue {
    /// Parses both catalogues and refuses to start if they do not have exactly the same keys.
    pub fn load() -> Result<Self, String> {
        let en = flatten(EN).map_err(|e| format!("locales/en.toml: {e}"))?;
        let ja = flatten(JA).map_err(|e| format!("locales/ja.toml: {e}"))?;
        let only_en: Vec<&String> = en.keys().filter(|k| !ja.contains_key(*k)).collect();
        let only_ja: Vec<&String> = ja.keys().filter(|k| !en.contains_key(*k)).collect();
        if !only_en.is_empty() || !only_ja.is_empty() {
            return Err(format!(
                "message catalogues differ: only in en {only_en:?}, only in ja {only_ja:?}"
            ));
        }
        Ok(Self { en, ja })
    }

    pub fn messages(&self, lang: Lang) -> Messages<'_> {
        let map = match lang {
            Lang::En => &self.en,
            Lang::Ja => &self.ja,
        };
        Messages { lang, map }
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.en.keys().map(String::as_str)
    }
}

fn flatten(source: &str) -> Result<BTreeMap<String, String>, String> {
    let table: toml::Table = source.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let mut out = BTreeMap::new();
    for (section, values) in table {
        let toml::Value::Table(values) = values else {
            return Err(format!("top-level key {section:?} must be a [section]"));
        };
        for (key, value) in values {
            let toml::Value::String(text) = value else {
                return Err(format!("{section}.{key} must be a string"));
            };
            if text.trim().is_empty() {
                return Err(format!("{section}.{key} is empty"));
            }
            out.insert(format!("{section}.{key}"), text);
        }
    }
    Ok(out)
}

/// One language's messages, handed to templates as `t`.
#[derive(Clone, Copy)]
pub struct Messages<'a> {
    lang: Lang,
    map: &'a BTreeMap<String, String>,
}

impl<'a> Messages<'a> {
    /// The message for `key`. A missing key shows the key itself (the catalogue test makes sure
    /// every key a template uses exists).
    pub fn get(&self, key: &'a str) -> &'a str {
        self.map.get(key).map_or(key, String::as_str)
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The message for a key built at run time (`field.<name>`), if the catalogue has it.
    pub fn lookup(&self, key: &str) -> Option<&'a str> {
        self.map.get(key).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_load_with_the_same_keys() {
        let c = Catalogue::load().unwrap();
        assert!(c.keys().count() > 40);
        // Brands are the same word in both languages; everything else must be translated.
        let brands = ["site.name", "option.visa", "option.mastercard", "option.jcb"];
        for key in c.keys().filter(|k| !brands.contains(k)) {
            assert_ne!(
                c.messages(Lang::En).get(key),
                c.messages(Lang::Ja).get(key),
                "{key} untranslated"
            );
        }
    }

    #[test]
    fn every_key_a_template_uses_exists() {
        let c = Catalogue::load().unwrap();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut used = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for chunk in text.split("t.get(\"").skip(1) {
                let key = chunk.split('"').next().unwrap();
                used += 1;
                assert!(c.keys().any(|k| k == key), "{} uses unknown key {key}", path.display());
            }
        }
        assert!(used > 30, "expected templates to use the catalogue, found {used} uses");
    }

    #[test]
    fn every_key_the_page_handlers_pass_to_templates_exists() {
        let c = Catalogue::load().unwrap();
        let source = concat!(
            include_str!("pages.rs"),
            include_str!("regulator.rs"),
            include_str!("mydata.rs"),
            include_str!("coins.rs"),
            include_str!("consents.rs"),
            include_str!("operator.rs"),
            include_str!("company.rs"),
            include_str!("forms.rs"),
            include_str!("home.rs"),
            include_str!("inbox.rs"),
            include_str!("oversight.rs"),
            include_str!("charts.rs")
        );
        let sections = [
            "site.",
            "nav.",
            "index.",
            "signup.",
            "signin.",
            "home.",
            "error.",
            "regulator.",
            "data.",
            "verr.",
            "coins.",
            "coins_explain.",
            "offers.",
            "consents.",
            "disclosures.",
            "receipt.",
            "company.",
            "operator.",
            "inbox.",
            "oversight.",
            "refusal.",
            "charts.",
            "company_status.",
            "offer_status.",
            "consents.status_",
        ];
        let mut used = 0;
        for literal in source.split('"').skip(1).step_by(2) {
            let looks_like_key = sections.iter().any(|s| literal.starts_with(s))
                && !literal.ends_with(".html")
                && literal
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '.' || ch == '_');
            if looks_like_key {
                used += 1;
                assert!(c.keys().any(|k| k == literal), "pages.rs uses unknown key {literal}");
            }
        }
        assert!(used > 10, "found only {used} catalogue keys in pages.rs");
    }

    /// Labels looked up by keys built at run time: every category, group, sensitivity and field
    /// the vault defines has one in both languages.
    #[test]
    fn every_vault_category_and_field_has_a_label() {
        let c = Catalogue::load().unwrap();
        let has = |key: String| assert!(c.keys().any(|k| k == key), "missing catalogue key {key}");
        for cat in infobank_vault::categories::CATEGORIES {
            has(format!("category.{}", cat.name));
            has(format!("group.{}", cat.group));
            for field in cat.fields {
                has(format!("field.{}", field.name));
            }
        }
        for s in ["normal", "sensitive", "special"] {
            has(format!("sensitivity.{s}"));
        }
    }

    /// Coin labels looked up by keys built at run time: every reason, explanation and target.
    #[test]
    fn every_coin_reason_and_redemption_target_has_a_label() {
        let c = Catalogue::load().unwrap();
        let has = |key: String| assert!(c.keys().any(|k| k == key), "missing catalogue key {key}");
        for reason in infobank_coins::Reason::ALL {
            has(format!("coins_reason.{}", reason.as_str()));
        }
        for reason in [
            "entrust_reward",
            "breadth_bonus",
            "offer_reward",
            "redemption",
            "predicate_reward",
            "statistics_reward",
        ] {
            has(format!("coins_explain.{reason}"));
        }
        for target in infobank_coins::redemption::Target::ALL {
            has(format!("coins_target.{}", target.as_str()));
        }
    }

    /// Every choice of every vault field, and every family relation, has a label: a ja page
    /// shows no code.
    #[test]
    fn every_choice_and_relation_has_a_label() {
        use infobank_vault::categories::FieldType;
        let c = Catalogue::load().unwrap();
        let mut checked = 0;
        for cat in infobank_vault::categories::CATEGORIES {
            for field in cat.fields {
                let values: &[&str] = match field.kind {
                    FieldType::Choice { options } => options,
                    FieldType::Members { relations, .. } => relations,
                    _ => continue,
                };
                let section = if field.name == "merchant_category" {
                    "merchant"
                } else {
                    "option"
                };
                for value in values {
                    let key = format!("{section}.{value}");
                    assert!(
                        c.keys().any(|k| k == key),
                        "{}.{} has no label {key}",
                        cat.name,
                        field.name
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 40, "only {checked} choices found");
    }

    /// Predicate and statistics wording looks these up by value.
    #[test]
    fn every_merchant_category_dimension_and_measure_has_a_label() {
        let c = Catalogue::load().unwrap();
        let has = |key: String| assert!(c.keys().any(|k| k == key), "missing catalogue key {key}");
        for m in infobank_vault::categories::MERCHANT_CATEGORIES {
            has(format!("merchant.{m}"));
        }
        for d in infobank_consent::statistics::catalogue::DIMENSIONS {
            has(format!("statistics.{}", d.name));
        }
        for m in infobank_consent::statistics::catalogue::MEASURES {
            has(format!("statistics.{}", m.name));
        }
        for p in infobank_consent::predicates::catalogue() {
            for param in p.params {
                has(format!("predicate_param.{}", param.name));
            }
        }
    }

    /// The inbox, the oversight dashboard and the refusal table look these up by value.
    #[test]
    fn every_notice_refusal_reason_and_company_status_has_a_label() {
        let c = Catalogue::load().unwrap();
        let has = |key: String| assert!(c.keys().any(|k| k == key), "missing catalogue key {key}");
        for kind in infobank_consent::notices::NoticeKind::ALL {
            has(format!("inbox.{}", kind.as_str()));
        }
        for action in infobank_consent::oversight::COUNTED {
            has(format!("oversight.{}", action.as_str().replace('.', "_")));
        }
        for status in ["pending_review", "approved", "rejected"] {
            has(format!("offer_status.{status}"));
        }
        for status in ["applied", "approved", "rejected", "suspended", "revoked"] {
            has(format!("company_status.{status}"));
            assert!(
                infobank_consent::companies::CompanyStatus::parse(status).is_some(),
                "{status}"
            );
        }
        use infobank_consent::{ConsentError, NotLive};
        let refusals = [
            NotLive::Revoked,
            NotLive::Paused,
            NotLive::Expired,
            NotLive::CompanySuspended,
            NotLive::CompanyNotApproved,
            NotLive::OfferWithdrawn,
            NotLive::QuotaExceeded,
        ]
        .map(ConsentError::NotLive);
        for error in refusals
            .iter()
            .chain(&[ConsentError::NotFound, ConsentError::StatisticsOnly])
        {
            let reason = infobank_consent::refusals::reason_of(error).unwrap();
            has(format!("refusal.{reason}"));
        }
    }

    #[test]
    fn accept_language_prefers_highest_quality() {
        assert_eq!(Lang::from_accept_language("ja-JP,ja;q=0.9,en;q=0.8"), Some(Lang::Ja));
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9,ja;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("fr-FR, ja;q=0.5, en;q=0.7"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("fr, de"), None);
        assert_eq!(Lang::from_accept_language("ja;q=0"), None);
        assert_eq!(Lang::from_accept_language(""), None);
    }
}
