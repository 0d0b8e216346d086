//! Checks shared by the fuzz targets in fuzz_targets/ (see docs/fuzzing.md).

use infobank_vault::categories::Category;
use infobank_vault::validate::{FieldError, contains_card_number, validate};
use serde_json::Value;

/// What must hold of `validate(cat, input)` for any input:
///
/// - a refusal names at least one problem (`import` reports `errors[0]`), each with a code and a
///   message, on `data`, a field of the category or a key the input has;
/// - a message never repeats a submitted value, only an unknown field's name (messages are ASCII
///   templates, so a non-ASCII value that leaked in would show);
/// - an accepted value is an object of the category's fields only, with every required one, holds
///   no card number, and validating it again accepts it unchanged (normalising is idempotent);
/// - it survives the JSON text round trip the vault stores it through.
pub fn check_validation(cat: &Category, input: &Value, result: &Result<Value, Vec<FieldError>>) {
    match result {
        Err(errors) => {
            assert!(!errors.is_empty(), "{}: a refusal without a reason", cat.name);
            let keys = input.as_object();
            for e in errors {
                assert!(!e.code.is_empty() && !e.message.is_empty(), "{e:?}");
                assert!(
                    e.field == "data"
                        || cat.fields.iter().any(|f| f.name == e.field)
                        || keys.is_some_and(|k| k.contains_key(&e.field)),
                    "{}: error on a field that is neither the category's nor the input's: {e:?}",
                    cat.name
                );
            }
            // Messages are ASCII templates; only an unknown field's name is echoed, at the end.
            // Without it a message must be ASCII: no (non-ASCII) value leaked into it.
            for e in errors {
                let rest = e.message.strip_suffix(e.field.as_str()).unwrap_or(&e.message);
                assert!(rest.is_ascii(), "{}: message repeats a value: {e:?}", cat.name);
            }
        }
        Ok(normalised) => {
            let object = normalised.as_object().expect("an accepted record is an object");
            for key in object.keys() {
                assert!(
                    cat.fields.iter().any(|f| f.name == key),
                    "{}: kept unknown {key}",
                    cat.name
                );
            }
            for f in cat.fields.iter().filter(|f| f.required) {
                assert!(object.contains_key(f.name), "{}: accepted without {}", cat.name, f.name);
            }
            assert!(
                !contains_card_number(normalised),
                "{}: accepted a card number",
                cat.name
            );
            assert_eq!(
                validate(cat, normalised).as_ref(),
                Ok(normalised),
                "{}: normalising twice changed the value",
                cat.name
            );
            let text = serde_json::to_string(normalised).expect("serialises");
            let back: Value = serde_json::from_str(&text).expect("parses back");
            let again = validate(cat, &back)
                .unwrap_or_else(|e| panic!("{}: stored form {back} (of {normalised}) refused: {e:?}", cat.name));
            assert!(same(&again, normalised), "{}: {again} != {normalised}", cat.name);
        }
    }
}

/// JSON equality, except that floats may differ in the last place (two units, subnormals too):
/// serde_json's default float parser is "best effort", not correctly rounded (its
/// `float_roundtrip` feature is off), so a stored 17-digit decimal can read back one unit off.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y || (x.signum() == y.signum() && x.to_bits().abs_diff(y.to_bits()) <= 2),
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}
