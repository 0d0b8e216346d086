//! Validation of a record's `data` against its category. Returns the normalised value (known
//! fields only, texts trimmed, postal codes as `NNN-NNNN`) or every problem at once. Messages
//! never repeat the submitted value: errors are logged, values must not be.

use chrono::{Datelike as _, NaiveDate};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::categories::{Category, FieldType};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

fn error(field: &str, code: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        code,
        message: message.into(),
    }
}

pub fn validate(category: &Category, data: &Value) -> Result<Value, Vec<FieldError>> {
    let Some(object) = data.as_object() else {
        return Err(vec![error("data", "not_an_object", "data must be a JSON object")]);
    };
    let mut errors = Vec::new();
    // A card number anywhere is refused before anything else looks at it.
    for (name, value) in object {
        if contains_card_number(value) {
            errors.push(error(
                name,
                "full_card_number_forbidden",
                "a full card number is never accepted; give the last four digits only",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    for name in object.keys() {
        if !category.fields.iter().any(|f| f.name == name) {
            errors.push(error(
                name,
                "unknown_field",
                format!("{} has no field {name}", category.name),
            ));
        }
    }
    let mut out = Map::new();
    for field in category.fields {
        match object.get(field.name) {
            None | Some(Value::Null) if field.required => {
                errors.push(error(field.name, "required", "this field is required"))
            }
            None | Some(Value::Null) => {}
            Some(value) => match check(field.kind, value) {
                Ok(normalised) => {
                    out.insert(field.name.to_owned(), normalised);
                }
                Err((code, message)) => errors.push(error(field.name, code, message)),
            },
        }
    }
    if errors.is_empty() {
        Ok(Value::Object(out))
    } else {
        Err(errors)
    }
}

type Check = Result<Value, (&'static str, String)>;

fn check(kind: FieldType, value: &Value) -> Check {
    match kind {
        FieldType::Date => date(value),
        FieldType::Text { max_chars } => text(value, max_chars),
        FieldType::Integer { min, max } => integer(value, min, max),
        FieldType::Decimal { min, max } => decimal(value, min, max),
        FieldType::Choice { options } => choice(value, options),
        FieldType::Bool => value
            .as_bool()
            .map(Value::Bool)
            .ok_or(("not_a_boolean", "must be true or false".into())),
        FieldType::PostalCodeJp => postal_code(value),
        FieldType::TextList { max_items, max_chars } => text_list(value, max_items, max_chars),
        FieldType::Members { max_items, relations } => members(value, max_items, relations),
        FieldType::Last4 => last4(value),
    }
}

fn date(value: &Value) -> Check {
    let s = value
        .as_str()
        .ok_or(("not_a_date", "must be a date as YYYY-MM-DD".to_owned()))?;
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|_| s.len() == 10)
        .ok_or(("not_a_date", "must be a real date as YYYY-MM-DD".to_owned()))?;
    if !(1900..=2100).contains(&d.year()) {
        return Err(("out_of_range", "must be between 1900-01-01 and 2100-12-31".into()));
    }
    Ok(Value::String(d.format("%Y-%m-%d").to_string()))
}

fn text(value: &Value, max_chars: usize) -> Check {
    let s = value
        .as_str()
        .ok_or(("not_a_string", "must be text".to_owned()))?
        .trim();
    if s.is_empty() {
        return Err(("blank", "must not be blank".into()));
    }
    if s.chars().count() > max_chars {
        return Err(("too_long", format!("at most {max_chars} characters")));
    }
    if s.chars().any(|c| c.is_control()) {
        return Err(("control_characters", "must not contain control characters".into()));
    }
    Ok(Value::String(s.to_owned()))
}

fn integer(value: &Value, min: i64, max: i64) -> Check {
    let n = value
        .as_i64()
        .ok_or(("not_an_integer", "must be a whole number".to_owned()))?;
    if !(min..=max).contains(&n) {
        return Err(("out_of_range", format!("must be between {min} and {max}")));
    }
    Ok(Value::from(n))
}

fn decimal(value: &Value, min: f64, max: f64) -> Check {
    let n = value
        .as_f64()
        .filter(|n| n.is_finite())
        .ok_or(("not_a_number", "must be a number".to_owned()))?;
    if !(min..=max).contains(&n) {
        return Err(("out_of_range", format!("must be between {min} and {max}")));
    }
    Ok(value.clone())
}

fn choice(value: &Value, options: &[&str]) -> Check {
    let s = value.as_str().ok_or(("not_a_string", "must be text".to_owned()))?;
    if options.contains(&s) {
        Ok(Value::String(s.to_owned()))
    } else {
        Err(("not_an_option", format!("must be one of: {}", options.join(", "))))
    }
}

/// Japanese postal codes: `NNN-NNNN`, also accepted without the hyphen.
fn postal_code(value: &Value) -> Check {
    let s = value
        .as_str()
        .ok_or(("not_a_postal_code", "must be a postal code such as 100-0001".to_owned()))?
        .trim();
    let digits: String = s.chars().filter(|c| *c != '-').collect();
    let shape_ok = digits.len() == 7
        && digits.chars().all(|c| c.is_ascii_digit())
        && (s.len() == 7 || (s.len() == 8 && s.as_bytes()[3] == b'-'));
    if !shape_ok {
        return Err((
            "not_a_postal_code",
            "must be a Japanese postal code such as 100-0001".into(),
        ));
    }
    Ok(Value::String(format!("{}-{}", &digits[..3], &digits[3..])))
}

fn text_list(value: &Value, max_items: usize, max_chars: usize) -> Check {
    let items = value
        .as_array()
        .ok_or(("not_a_list", "must be a list of texts".to_owned()))?;
    if items.len() > max_items {
        return Err(("too_many", format!("at most {max_items} items")));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(text(item, max_chars).map_err(|(code, message)| (code, format!("each item: {message}")))?);
    }
    Ok(Value::Array(out))
}

fn members(value: &Value, max_items: usize, relations: &[&str]) -> Check {
    let items = value
        .as_array()
        .ok_or(("not_a_list", "must be a list of members".to_owned()))?;
    if items.len() > max_items {
        return Err(("too_many", format!("at most {max_items} members")));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let m = item
            .as_object()
            .ok_or(("not_a_member", "each member is {relation, birth_year}".to_owned()))?;
        if m.keys().any(|k| k != "relation" && k != "birth_year") {
            return Err(("unknown_field", "a member has only relation and birth_year".into()));
        }
        let relation = choice(m.get("relation").unwrap_or(&Value::Null), relations)?;
        let birth_year = integer(m.get("birth_year").unwrap_or(&Value::Null), 1900, 2100)?;
        out.push(serde_json::json!({ "relation": relation, "birth_year": birth_year }));
    }
    Ok(Value::Array(out))
}

fn last4(value: &Value) -> Check {
    let s = value
        .as_str()
        .ok_or(("not_last4", "must be the last four digits, as text".to_owned()))?
        .trim();
    if s.len() == 4 && s.chars().all(|c| c.is_ascii_digit()) {
        Ok(Value::String(s.to_owned()))
    } else {
        Err(("not_last4", "must be exactly the last four digits".into()))
    }
}

/// Whether any string in `value` holds a payment card number: 13 to 19 digits (spaces and
/// hyphens allowed between them) that pass the Luhn check. A number is judged by its integer
/// part: the digits after a decimal point are a measurement's precision, not a card number
/// (2.1666666666666665 hours, 130 minutes, would otherwise pass the Luhn check and be refused).
pub fn contains_card_number(value: &Value) -> bool {
    match value {
        Value::String(s) => text_has_card_number(s),
        // Beyond 1e19 a number has more than 19 integer digits: not a card number.
        Value::Number(n) if n.is_f64() => n
            .as_f64()
            .map(f64::trunc)
            .filter(|f| f.abs() < 1e19)
            .is_some_and(|f| text_has_card_number(&format!("{f:.0}"))),
        Value::Number(n) => text_has_card_number(&n.to_string()),
        Value::Array(items) => items.iter().any(contains_card_number),
        Value::Object(map) => map.values().any(contains_card_number),
        _ => false,
    }
}

fn text_has_card_number(s: &str) -> bool {
    // Runs of digits, where single spaces or hyphens may separate groups.
    let mut runs: Vec<Vec<u8>> = vec![Vec::new()];
    let mut previous_was_separator = false;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10).filter(|_| c.is_ascii_digit()) {
            if let Some(run) = runs.last_mut() {
                run.push(d as u8);
            }
            previous_was_separator = false;
        } else if (c == ' ' || c == '-') && !previous_was_separator && runs.last().is_some_and(|r| !r.is_empty()) {
            previous_was_separator = true;
        } else {
            runs.push(Vec::new());
            previous_was_separator = false;
        }
    }
    // A whole run is judged, not windows of it: a window of a longer number passes the Luhn
    // check one time in ten and would refuse innocent order numbers.
    runs.iter().any(|run| (13..=19).contains(&run.len()) && luhn(run))
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::categories::{CATEGORIES, category};
    use serde_json::json;

    fn check_ok(cat: &str, data: Value) -> Value {
        validate(category(cat).unwrap(), &data).unwrap_or_else(|e| panic!("{cat}: {e:?}"))
    }

    fn check_err(cat: &str, data: Value) -> Vec<FieldError> {
        validate(category(cat).unwrap(), &data).expect_err("should be refused")
    }

    #[test]
    fn the_api_md_examples_are_valid() {
        check_ok("birth_date", json!({"date": "1990-04-01"}));
        let r = check_ok(
            "residence",
            json!({"prefecture": "Tokyo", "city": "Chiyoda", "postal_code": "1000001"}),
        );
        assert_eq!(r["postal_code"], "100-0001");
        check_ok(
            "family_structure",
            json!({"household_size": 3, "members": [{"relation": "child", "birth_year": 2015}]}),
        );
        check_ok("hobbies", json!({"items": ["cycling", "go"]}));
        check_ok("daily_mood", json!({"date": "2026-11-20", "score": 4, "note": "…"}));
        check_ok(
            "physical_condition",
            json!({"date": "2026-11-20", "sleep_hours": 7.5, "steps": 8000, "weight_kg": 61.2, "body_temp_c": 36.5}),
        );
        check_ok(
            "payment_history",
            json!({"date": "2026-11-20", "merchant": "…", "amount": 1280, "currency": "JPY", "method": "qr", "merchant_category": "grocery"}),
        );
        check_ok("credit_card", json!({"issuer": "…", "brand": "visa", "last4": "4242"}));
    }

    #[test]
    fn every_category_refuses_a_missing_required_field_and_an_unknown_one() {
        for cat in CATEGORIES {
            let errors = validate(cat, &json!({"no_such_field": 1})).unwrap_err();
            assert!(
                errors
                    .iter()
                    .any(|e| e.code == "unknown_field" && e.field == "no_such_field"),
                "{}",
                cat.name
            );
            let required = cat.fields.iter().find(|f| f.required).unwrap();
            assert!(
                errors.iter().any(|e| e.code == "required" && e.field == required.name),
                "{}",
                cat.name
            );
            assert_eq!(validate(cat, &json!([1, 2])).unwrap_err()[0].code, "not_an_object");
        }
    }

    #[test]
    fn bad_values_name_their_field() {
        let e = check_err("daily_mood", json!({"date": "2026-02-30", "score": 6}));
        let codes: Vec<(&str, &str)> = e.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert!(
            codes.contains(&("date", "not_a_date")) && codes.contains(&("score", "out_of_range")),
            "{codes:?}"
        );
        assert_eq!(
            check_err(
                "residence",
                json!({"prefecture": "Tokyo", "city": "X", "postal_code": "12-34567"})
            )[0]
            .field,
            "postal_code"
        );
        assert_eq!(check_err("payment_history", json!({"date": "2026-11-20", "merchant": "A", "amount": 1.5, "currency": "JPY", "method": "qr", "merchant_category": "grocery"}))[0].code, "not_an_integer");
        assert_eq!(check_err("payment_history", json!({"date": "2026-11-20", "merchant": " ", "amount": 1, "currency": "XXX", "method": "qr", "merchant_category": "grocery"})).len(), 2);
        assert_eq!(
            check_err(
                "family_structure",
                json!({"household_size": 2, "members": [{"relation": "cousin", "birth_year": 1990}]})
            )[0]
            .field,
            "members"
        );
    }

    #[test]
    fn a_full_card_number_is_refused_anywhere_and_never_echoed() {
        for number in [
            "4242424242424242",
            "4242 4242 4242 4242",
            "4242-4242-4242-4242",
            "378282246310005",
        ] {
            let e = check_err("credit_card", json!({"issuer": "X", "brand": "visa", "last4": number}));
            assert_eq!(e[0].code, "full_card_number_forbidden");
            assert!(!e[0].message.contains("4242") && !e[0].message.contains("3782"));
            let e = check_err(
                "daily_mood",
                json!({"date": "2026-11-20", "score": 3, "note": format!("paid with {number} today")}),
            );
            assert_eq!(e[0].code, "full_card_number_forbidden");
        }
        // Not card numbers: too short, or failing the Luhn check.
        check_ok(
            "daily_mood",
            json!({"date": "2026-11-20", "score": 3, "note": "order 4242424242424241, call 03-1234-5678"}),
        );
        assert_eq!(
            check_err("credit_card", json!({"issuer": "X", "brand": "visa", "last4": "42424"}))[0].code,
            "not_last4"
        );
    }

    #[test]
    fn luhn_known_answers() {
        assert!(luhn(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3]));
        assert!(!luhn(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 4]));
    }
}
