//! The bulk-import parser, `infobank_vault::import::parse_rows` (CSV and JSON), and the per-row
//! validation `import` runs on what it returns. The first byte picks the format (odd: JSON).
//!
//! Never panics; and:
//! - JSON: one row per array element, none rejected by the parser;
//! - CSV: rows are numbered 1, 2, … in order; a parsed row has exactly the six documented columns;
//!   a rejected one is `malformed_row` with a message that never repeats the row's content;
//! - every row then meets `infobank_fuzz::check_validation` for payment_history.
#![no_main]

use infobank_vault::categories::category;
use infobank_vault::import::{CSV_COLUMNS, ImportBody, parse_rows};
use infobank_vault::validate::validate;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let json = mode & 1 == 1;
    let parsed = parse_rows(if json {
        ImportBody::Json(body)
    } else {
        ImportBody::Csv(body)
    });
    // A whole-body error (not JSON, not an array, a bad header row) is a fine answer.
    let Ok(rows) = parsed else { return };
    if json {
        let whole: Value = serde_json::from_slice(body).expect("parse_rows accepted it");
        assert_eq!(rows.len(), whole.as_array().expect("an array").len());
    }
    let cat = category("payment_history").expect("payment_history exists");
    for (i, row) in rows.iter().enumerate() {
        match row {
            Err(rejected) => {
                assert!(!json, "the JSON parser rejects rows only through validation");
                assert_eq!(rejected.row, i + 1);
                assert_eq!(rejected.code, "malformed_row");
                let reason = rejected
                    .message
                    .strip_prefix("unreadable CSV row: ")
                    .unwrap_or_else(|| panic!("unexpected message {:?}", rejected.message));
                assert!(
                    reason == "not UTF-8"
                        || reason == "malformed"
                        || reason == "a quoted field is not closed"
                        || reason.ends_with(" fields, expected 6")
                            && reason.split(' ').next().is_some_and(|n| n.parse::<usize>().is_ok()),
                    "a reason that may carry content: {reason:?}"
                );
            }
            Ok(object) => {
                if !json {
                    let object = object.as_object().expect("a CSV row is an object");
                    assert_eq!(object.len(), CSV_COLUMNS.len());
                    assert!(CSV_COLUMNS.iter().all(|c| object.contains_key(*c)));
                }
                infobank_fuzz::check_validation(cat, object, &validate(cat, object));
            }
        }
    }
});
