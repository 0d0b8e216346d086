//! The category validators: `infobank_vault::validate::validate` for every category in
//! `infobank_vault::categories::CATEGORIES`. The input picks a category, then either gives the
//! record as raw JSON or steers a generator that builds records shaped like the category's fields
//! (so that most inputs get past "unknown field" and into each field type's own checks).
//!
//! Never panics; every result meets `infobank_fuzz::check_validation` (refusals have reasons that
//! do not echo values; accepted records hold known fields only and re-validate unchanged).
#![no_main]

use arbitrary::{Result, Unstructured};
use infobank_vault::categories::{CATEGORIES, Category, FieldType};
use infobank_vault::validate::validate;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(index) = u.choose_index(CATEGORIES.len()) else {
        return;
    };
    let cat = &CATEGORIES[index];
    let input = match u.arbitrary::<bool>() {
        Ok(true) => match serde_json::from_slice::<Value>(u.take_rest()) {
            Ok(v) => v,
            Err(_) => return,
        },
        _ => match record(&mut u, cat) {
            Ok(v) => v,
            Err(_) => return,
        },
    };
    infobank_fuzz::check_validation(cat, &input, &validate(cat, &input));
});

/// A record for `cat`: mostly its own fields with plausible values, sometimes anything.
fn record(u: &mut Unstructured<'_>, cat: &Category) -> Result<Value> {
    let mut map = Map::new();
    for field in cat.fields {
        match u.int_in_range(0u8..=9)? {
            0 => {} // missing
            1 => drop(map.insert(field.name.into(), any(u, 2)?)),
            _ => drop(map.insert(field.name.into(), shaped(u, field.kind)?)),
        }
    }
    if u.ratio(1, 8)? {
        map.insert(u.arbitrary()?, any(u, 2)?);
    }
    Ok(Value::Object(map))
}

/// A value close to what `kind` accepts, with room to be just wrong.
fn shaped(u: &mut Unstructured<'_>, kind: FieldType) -> Result<Value> {
    Ok(match kind {
        FieldType::Date => {
            let y: i32 = *u.choose(&[1899, 1900, 1990, 2024, 2100, 2101, 0, 10000, -1])?;
            let m: u32 = u.int_in_range(0..=13)?;
            let d: u32 = u.int_in_range(0..=32)?;
            Value::String(match u.int_in_range(0u8..=3)? {
                0 => format!("{y}-{m}-{d}"),
                1 => format!(" {y:04}-{m:02}-{d:02}"),
                2 => format!("{y:04}-{m:02}-{d:02}{}", text(u)?),
                _ => format!("{y:04}-{m:02}-{d:02}"),
            })
        }
        FieldType::Text { max_chars } => {
            let s = text(u)?;
            if u.ratio(1, 8)? {
                // Right at the limit or one past it (in chars, not bytes).
                let n = max_chars + usize::from(u.arbitrary::<bool>()?);
                Value::String(s.chars().chain(std::iter::repeat('あ')).take(n).collect())
            } else {
                Value::String(s)
            }
        }
        FieldType::Integer { min, max } => number(u, min, max)?,
        FieldType::Decimal { min, max } => {
            let x = match u.int_in_range(0u8..=3)? {
                0 => min,
                1 => max,
                2 => f64::from_bits(u.arbitrary()?),
                _ => min + (max - min) * f64::from(u.arbitrary::<u16>()?) / f64::from(u16::MAX),
            };
            serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
        }
        FieldType::Choice { options } => {
            if u.ratio(1, 4)? {
                Value::String(text(u)?)
            } else {
                Value::String((*u.choose(options)?).to_owned())
            }
        }
        FieldType::Bool => Value::Bool(u.arbitrary()?),
        FieldType::PostalCodeJp => {
            let n: u32 = u.int_in_range(0..=9_999_999)?;
            let s = format!("{n:07}");
            Value::String(match u.int_in_range(0u8..=3)? {
                0 => s,
                1 => format!("{}-{}", &s[..3], &s[3..]),
                2 => format!(" {}-{} ", &s[..3], &s[3..]),
                _ => text(u)?,
            })
        }
        FieldType::TextList { max_items, max_chars } => {
            let n = u.int_in_range(0..=max_items + 1)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(if u.ratio(1, 10)? {
                    any(u, 1)?
                } else {
                    Value::String(text(u)?.chars().take(max_chars + 1).collect())
                });
            }
            Value::Array(items)
        }
        FieldType::Members { max_items, relations } => {
            let n = u.int_in_range(0..=max_items + 1)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                let mut m = Map::new();
                if !u.ratio(1, 10)? {
                    m.insert("relation".into(), Value::String((*u.choose(relations)?).to_owned()));
                }
                if !u.ratio(1, 10)? {
                    m.insert("birth_year".into(), number(u, 1900, 2100)?);
                }
                if u.ratio(1, 10)? {
                    m.insert(u.arbitrary()?, any(u, 1)?);
                }
                items.push(Value::Object(m));
            }
            Value::Array(items)
        }
        FieldType::Last4 => {
            let n: u16 = u.int_in_range(0..=9999)?;
            Value::String(if u.ratio(1, 4)? { text(u)? } else { format!("{n:04}") })
        }
    })
}

fn number(u: &mut Unstructured<'_>, min: i64, max: i64) -> Result<Value> {
    Ok(match u.int_in_range(0u8..=4)? {
        0 => Value::from(min.saturating_sub(1)),
        1 => Value::from(max.saturating_add(1)),
        2 => Value::from(u.arbitrary::<i64>()?),
        3 => Value::from(u.arbitrary::<u64>()?),
        _ => Value::from(u.int_in_range(min..=max)?),
    })
}

/// Short text, sometimes with a card number, control characters or padding in it.
fn text(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(match u.int_in_range(0u8..=5)? {
        0 => format!("paid with 4242 4242 4242 {:04}", u.int_in_range(0..=9999u16)?),
        1 => format!("  {}\t", u.arbitrary::<String>()?),
        2 => "".into(),
        _ => u.arbitrary()?,
    })
}

/// Any JSON value, nested at most `depth` deep.
fn any(u: &mut Unstructured<'_>, depth: u8) -> Result<Value> {
    let top = if depth == 0 { 4 } else { 6 };
    Ok(match u.int_in_range(0u8..=top)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<i64>()?),
        3 => serde_json::Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
        4 => Value::String(text(u)?),
        5 => Value::Array(
            (0..u.int_in_range(0..=3)?)
                .map(|_| any(u, depth - 1))
                .collect::<Result<_>>()?,
        ),
        _ => {
            let mut m = Map::new();
            for _ in 0..u.int_in_range(0..=3)? {
                m.insert(u.arbitrary()?, any(u, depth - 1)?);
            }
            Value::Object(m)
        }
    })
}
