//! The canonical JSON encoder of audit leaves, `infobank_audit::canonical::to_canonical_json`.
//! Inputs: the bytes parsed as JSON (when they are JSON); a value built around the bytes as text
//! (arbitrary keys and strings, whatever their escaping and UTF-16 order); and an audit event leaf
//! built from them.
//!
//! serde_json is built here with `preserve_order` (see fuzz/Cargo.toml), so maps keep insertion
//! order and the encoder's own sorting is what is tested. For every value:
//! - it is refused (FloatInLeaf) exactly when it holds a float; an event leaf never is;
//! - encoding is deterministic, and independent of the order the maps were built in;
//! - the output parses as JSON equal to the value, and encoding that parse gives the same bytes;
//! - object keys appear in strictly increasing UTF-16 order at every depth;
//! - there is no insignificant whitespace (same length as serde_json's compact form).
#![no_main]

use chrono::DateTime;
use infobank_audit::canonical::{FloatInLeaf, to_canonical_json};
use infobank_audit::{Action, Actor, AuditEvent};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        check(&value);
    }

    let text = String::from_utf8_lossy(data);
    let middle = text
        .char_indices()
        .nth(text.chars().count() / 2)
        .map_or(text.len(), |(i, _)| i);
    let (a, b) = text.split_at(middle);
    check(&json!({
        a: b,
        b: [a, null, true, false, -1, 0, u64::MAX, i64::MIN],
        "": { a: { b: {} }, "\u{FF61}": [], "\u{1F600}": [[]] },
        "a\u{0}": a,
    }));

    let action = Action::ALL[data.first().map_or(0, |&x| usize::from(x) % Action::ALL.len())];
    let millis = data
        .iter()
        .fold(0i64, |acc, &x| acc.wrapping_mul(257).wrapping_add(i64::from(x)));
    let at = DateTime::from_timestamp_millis(millis).unwrap_or_default();
    let mut event = AuditEvent::new(action, Actor::new(a, b))
        .object(b, a)
        .object("account", b);
    if data.len() % 2 == 1 {
        event = event.company(a);
    }
    let nonce = format!("{:032x}", millis);
    let leaf = event.to_leaf(&nonce, at);
    assert!(to_canonical_json(&leaf).is_ok(), "an event leaf was refused");
    check(&leaf);
});

fn check(value: &Value) {
    let encoded = to_canonical_json(value);
    let Ok(text) = encoded else {
        assert_eq!(encoded, Err(FloatInLeaf));
        assert!(has_float(value), "refused a value without a float");
        return;
    };
    assert!(!has_float(value), "accepted a float");
    assert_eq!(to_canonical_json(value).as_ref(), Ok(&text), "not deterministic");
    assert_eq!(
        to_canonical_json(&reversed(value)).as_ref(),
        Ok(&text),
        "depends on map order"
    );

    let parsed: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    assert_eq!(&parsed, value, "does not parse back to the value");
    assert_eq!(
        to_canonical_json(&parsed).as_ref(),
        Ok(&text),
        "re-encoding changed the bytes"
    );
    // `parsed` kept the output's key order (preserve_order).
    assert_sorted(&parsed);
    assert_eq!(
        text.len(),
        serde_json::to_string(value).expect("serialises").len(),
        "not compact"
    );
}

fn has_float(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_f64(),
        Value::Array(items) => items.iter().any(has_float),
        Value::Object(map) => map.values().any(has_float),
        _ => false,
    }
}

/// The same value with every map built in reverse order.
fn reversed(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(reversed).collect()),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map.iter().rev() {
                out.insert(k.clone(), reversed(v));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn assert_sorted(value: &Value) {
    match value {
        Value::Array(items) => items.iter().for_each(assert_sorted),
        Value::Object(map) => {
            let keys: Vec<&String> = map.keys().collect();
            for pair in keys.windows(2) {
                assert!(
                    pair[0].encode_utf16().lt(pair[1].encode_utf16()),
                    "keys out of UTF-16 order: {:?} before {:?}",
                    pair[0],
                    pair[1]
                );
            }
            map.values().for_each(assert_sorted);
        }
        _ => {}
    }
}
