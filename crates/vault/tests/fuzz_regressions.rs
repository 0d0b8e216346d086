//! Inputs found by the fuzz targets (fuzz/, docs/fuzzing.md), kept as ordinary tests so the bugs
//! they found stay fixed without a fuzzer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use infobank_vault::categories::category;
use infobank_vault::validate::{contains_card_number, validate};
use serde_json::{Value, json};

/// fuzz target category_validate: a physical_condition record was accepted, then its stored form
/// (the same floats after a JSON round trip) was refused as a card number, because the digits
/// after a decimal point were Luhn-checked: 41.22796978713664 holds the run 22796978713664.
/// Ordinary arithmetic makes such decimals (130 minutes of sleep is 2.1666666666666665 hours).
#[test]
fn decimal_fractions_are_not_card_numbers() {
    let cat = category("physical_condition").unwrap();
    let found = r#"{"date":"2100-05-27","sleep_hours":14.96470588235294,"steps":61020,"weight_kg":249.78823529411764,"body_temp_c":41.22796978713664}"#;
    let found: Value = serde_json::from_str(found).unwrap();
    assert!(!contains_card_number(&found));
    let accepted = validate(cat, &found).unwrap();
    assert_eq!(validate(cat, &accepted).unwrap(), accepted);

    for (sleep_hours, body_temp_c) in [
        (130.0 / 60.0, (97.9 - 32.0) * 5.0 / 9.0),
        (43.0 / 60.0, (96.1 - 32.0) * 5.0 / 9.0),
    ] {
        let record = json!({"date": "2026-11-20", "sleep_hours": sleep_hours, "body_temp_c": body_temp_c});
        let stored: Value = serde_json::from_str(&record.to_string()).unwrap();
        assert!(validate(cat, &record).is_ok(), "{record}");
        assert!(validate(cat, &stored).is_ok(), "{stored}");
    }
}

/// The fix looks at a number's integer part only: a card number sent as a number, whole or with
/// a fraction, is still refused.
#[test]
fn card_numbers_as_numbers_are_still_refused() {
    let cat = category("daily_mood").unwrap();
    for number in [
        json!(4242424242424242u64),
        json!(4242424242424242.0),
        json!(4242424242424242.5),
    ] {
        let record = json!({"date": "2026-11-20", "score": 3, "note": number});
        assert!(contains_card_number(&record), "{record}");
        let errors = validate(cat, &record).unwrap_err();
        assert_eq!(errors[0].code, "full_card_number_forbidden");
    }
    assert!(!contains_card_number(&json!(0.4242424242424242)));
    assert!(!contains_card_number(&json!(1e300)));
}
