//! How the portal words what a predicate or statistics offer learns: the questions in the
//! reader's language with their parameters, an answer as yes / no / not known, and the
//! statistics sentence with the bank's `k`.

use infobank_consent::predicates::Predicate;
use infobank_consent::statistics::catalogue::StatisticsSpec;

use super::forms::t_owned;
use super::i18n::{Lang, Messages};

/// The question a predicate asks, e.g. "whether you are 20 or older".
pub fn question(t: &Messages<'_>, lang: Lang, p: &Predicate) -> String {
    p.describe(lang == Lang::Ja, &|param, value| match param {
        "category" => t_owned(t, &format!("category.{value}")),
        "merchant_category" => t_owned(t, &format!("merchant.{value}")),
        _ => value.to_owned(),
    })
}

/// An answer in words.
pub fn answer(t: &Messages<'_>, value: Option<bool>) -> String {
    t_owned(
        t,
        match value {
            Some(true) => "offers.answer_yes",
            Some(false) => "offers.answer_no",
            None => "offers.answer_unknown",
        },
    )
}

fn labels(t: &Messages<'_>, lang: Lang, names: &[String]) -> String {
    let words: Vec<String> = names.iter().map(|n| t_owned(t, &format!("statistics.{n}"))).collect();
    words.join(if lang == Lang::Ja { "・" } else { ", " })
}

/// "You are counted in statistics by prefecture and month (…); cells of fewer than k people are
/// never shown …".
pub fn statistics_sentence(t: &Messages<'_>, lang: Lang, spec: &StatisticsSpec, k: i64) -> String {
    t_owned(t, "offers.statistics_counted")
        .replace("{dimensions}", &labels(t, lang, &spec.dimensions))
        .replace("{measures}", &labels(t, lang, &spec.measures))
        .replace("{k}", &k.to_string())
}
