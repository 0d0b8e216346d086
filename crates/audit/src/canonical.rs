//! Canonical JSON for audit leaves: object keys sorted by their UTF-16 code units (RFC 8785),
//! no insignificant whitespace, strings escaped as serde_json does (minimal escaping). Leaves hold
//! only strings, integers, booleans, nulls, arrays and objects; a float is refused so that no
//! number formatting question can ever change a leaf hash.
//!
//! Sorting is done here explicitly rather than relying on serde_json's map order, which a
//! feature flag anywhere in the dependency tree (`preserve_order`) would silently change.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit leaves may not contain floating-point numbers")]
pub struct FloatInLeaf;

pub fn to_canonical_json(value: &Value) -> Result<String, FloatInLeaf> {
    let mut out = String::new();
    write(value, &mut out)?;
    Ok(out)
}

fn write(value: &Value, out: &mut String) -> Result<(), FloatInLeaf> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_f64() {
                return Err(FloatInLeaf);
            }
            out.push_str(&n.to_string());
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write(item, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut String) {
    // serde_json's string encoding is the JCS one: escape `"`, `\` and control characters only.
    out.push_str(&Value::String(s.to_owned()).to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_sorted_and_compact_at_every_depth() {
        let v = json!({"b": 1, "a": {"z": [true, null, "x"], "c": -3}, "A": "é\n\"q\""});
        assert_eq!(
            to_canonical_json(&v).unwrap(),
            r#"{"A":"é\n\"q\"","a":{"c":-3,"z":[true,null,"x"]},"b":1}"#
        );
    }

    #[test]
    fn utf16_order_as_rfc8785_requires() {
        // U+FF61 sorts after U+1F600 in UTF-8/char order but before it in UTF-16 code units.
        let v = json!({"\u{1F600}": 1, "\u{FF61}": 2});
        assert_eq!(to_canonical_json(&v).unwrap(), "{\"\u{1F600}\":1,\"\u{FF61}\":2}");
    }

    #[test]
    fn floats_are_refused() {
        assert_eq!(to_canonical_json(&json!({"x": 1.5})), Err(FloatInLeaf));
    }

    #[test]
    fn canonical_output_parses_back_to_the_same_value() {
        let v = json!({"index": 12, "objects": {"account": "01a2"}, "action": "account.created"});
        let text = to_canonical_json(&v).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
        assert_eq!(to_canonical_json(&serde_json::from_str(&text).unwrap()).unwrap(), text);
    }
}
