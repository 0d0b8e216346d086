//! Bulk import of payment history, as CSV (a header row naming the documented columns, in any
//! order) or as a JSON array of transaction objects. Every row is validated on its own: valid rows
//! are stored, invalid ones come back as `{row, code, message}` (`row` counts data rows from 1),
//! and one bad row never loses the good ones (a CSV row may not run past its line: an unclosed
//! quote spoils its own row only). A transaction already held (same date, merchant and
//! amount) is reported as a duplicate, not stored twice; the check uses a keyed hash, so the
//! database never holds the transaction in the clear.

use chrono::{DateTime, SubsecRound as _, Utc};
use infobank_accounts::data_key;
use infobank_audit::{Action, Actor, AuditEvent, append};
use infobank_coins::rewards::{PaidFor, pay_entrust};
use infobank_crypto::KeyRing;
use infobank_db::diesel::prelude::*;
use infobank_db::schema::vault_records;
use infobank_db::{DbConnection, write_transaction};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashSet;

use crate::VaultError;
use crate::categories::{Category, category};
use crate::records::seal_record;
use crate::validate::validate;

pub const CSV_COLUMNS: [&str; 6] = ["date", "merchant", "amount", "currency", "method", "merchant_category"];
/// The largest body an import accepts.
pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedRow {
    pub row: usize,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    pub imported: usize,
    pub rejected: Vec<RejectedRow>,
}

pub enum ImportBody<'a> {
    Csv(&'a [u8]),
    Json(&'a [u8]),
}

/// Only payment history is importable in bulk today.
fn importable(name: &str) -> Result<&'static Category, VaultError> {
    match category(name) {
        Some(cat) if cat.name == "payment_history" => Ok(cat),
        Some(_) => Err(VaultError::NotImportable(name.to_owned())),
        None => Err(VaultError::UnknownCategory(name.to_owned())),
    }
}

/// The keyed hash identifying a payment (date, merchant, amount) for one citizen.
pub fn payment_dedup_key(keys: &KeyRing, citizen_id: &str, data: &Value) -> String {
    let identity = format!(
        "{citizen_id}|{}|{}|{}",
        data["date"].as_str().unwrap_or_default(),
        data["merchant"].as_str().unwrap_or_default(),
        data["amount"]
    );
    keys.blind_index("payment-dedup-v1").index(&identity)
}

/// Parses the body into one JSON object per data row (or a whole-body error). Pure: no database,
/// no keys; [`import`] validates and stores what it returns. Public for the fuzz targets (fuzz/).
pub fn parse_rows(body: ImportBody<'_>) -> Result<Vec<Result<Value, RejectedRow>>, VaultError> {
    match body {
        ImportBody::Json(bytes) => {
            let value: Value =
                serde_json::from_slice(bytes).map_err(|e| VaultError::MalformedImport(format!("not JSON: {e}")))?;
            let items = value
                .as_array()
                .ok_or_else(|| VaultError::MalformedImport("expected a JSON array of transactions".into()))?;
            Ok(items.iter().cloned().map(Ok).collect())
        }
        ImportBody::Csv(bytes) => {
            let mut lines = CsvLines::new(bytes);
            let headers: Vec<String> = match lines.next_row() {
                None => Vec::new(),
                Some(header) => header
                    .map_err(|reason| VaultError::MalformedImport(format!("unreadable header row: {reason}")))?
                    .iter()
                    .map(|h| h.trim_start_matches('\u{feff}').to_owned())
                    .collect(),
            };
            let mut sorted = headers.clone();
            sorted.sort();
            let mut expected: Vec<String> = CSV_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
            expected.sort();
            if sorted != expected {
                return Err(VaultError::MalformedImport(format!(
                    "the header row must name the columns {}",
                    CSV_COLUMNS.join(",")
                )));
            }
            let mut rows = Vec::new();
            while let Some(fields) = lines.next_row() {
                let row = rows.len() + 1;
                let malformed = |reason: String| RejectedRow {
                    row,
                    code: "malformed_row".into(),
                    message: format!("unreadable CSV row: {reason}"),
                };
                rows.push(
                    fields
                        .and_then(|fields| to_object(&headers, &fields))
                        .map_err(malformed),
                );
            }
            Ok(rows)
        }
    }
}

/// A data row as the JSON object a single entrust would send.
fn to_object(headers: &[String], fields: &csv::StringRecord) -> Result<Value, String> {
    if fields.len() != headers.len() {
        return Err(format!("{} fields, expected {}", fields.len(), headers.len()));
    }
    let mut object = Map::new();
    for (name, value) in headers.iter().zip(fields.iter()) {
        // Amounts are numbers in JSON; in CSV they arrive as text.
        let value = match name.as_str() {
            "amount" => value
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(value.to_owned())),
            _ => Value::String(value.to_owned()),
        };
        object.insert(name.clone(), value);
    }
    Ok(Value::Object(object))
}

/// CSV rows, each on its own line. No payment field holds a line break, so a field that holds one
/// ran past the end of its line from a quote that is not closed: its row is refused, and reading
/// starts again at the next line, so that it spoils its own row and no row after it (a plain CSV
/// reader reads every later line into that one field). One reader for the whole body, which is
/// fast; it is only moved on after such a row.
struct CsvLines<'a> {
    bytes: &'a [u8],
    reader: csv::Reader<std::io::Cursor<&'a [u8]>>,
}

impl<'a> CsvLines<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(std::io::Cursor::new(bytes));
        Self { bytes, reader }
    }

    /// The next row's fields, or why it cannot be read (never the row's content).
    fn next_row(&mut self) -> Option<Result<csv::StringRecord, String>> {
        let mut record = csv::StringRecord::new();
        match self.reader.read_record(&mut record) {
            Ok(false) => None,
            Err(e) => Some(Err(csv_reason(&e))),
            // Only a quoted field can hold a line break: this one ran past its line.
            Ok(true) if record.iter().any(|field| field.contains(['\n', '\r'])) => {
                let start = record.position().map_or(0, csv::Position::byte);
                self.restart_after_line_at(start);
                Some(Err("a quoted field is not closed".into()))
            }
            Ok(true) => Some(Ok(record)),
        }
    }

    /// Moves the reader, with a fresh parser state, to the line after the row that the reader
    /// began to read at byte `start` (which may lie before blank lines the reader skipped).
    fn restart_after_line_at(&mut self, start: u64) {
        let from = usize::try_from(start).unwrap_or(usize::MAX);
        let rest = self.bytes.get(from..).unwrap_or_default();
        let row = rest
            .iter()
            .position(|b| !matches!(b, b'\n' | b'\r'))
            .unwrap_or(rest.len());
        let next = rest
            .iter()
            .skip(row)
            .position(|b| *b == b'\n')
            .map_or(self.bytes.len(), |at| from + row + at + 1);
        let mut position = csv::Position::new();
        position.set_byte(next as u64);
        // Seeking a cursor over a slice cannot fail; were it to, the reader would simply go on.
        let _ = self.reader.seek_raw(std::io::SeekFrom::Start(next as u64), position);
    }
}

/// A CSV error's kind without the row's content.
fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => format!("{len} fields, expected {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not UTF-8".into(),
        _ => "malformed".into(),
    }
}

pub fn import(
    conn: &mut DbConnection,
    keys: &KeyRing,
    citizen_id: &str,
    category_name: &str,
    body: ImportBody<'_>,
    now: DateTime<Utc>,
) -> Result<ImportOutcome, VaultError> {
    let now = now.trunc_subsecs(6);
    let cat = importable(category_name)?;
    let rows = parse_rows(body)?;
    let dek = data_key(conn, keys, citizen_id)?;
    let mut rejected = Vec::new();
    let mut accepted: Vec<Accepted> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for (i, row) in rows.into_iter().enumerate() {
        let row_number = i + 1;
        let data = match row.map(|raw| validate(cat, &raw)) {
            Err(bad) => {
                rejected.push(bad);
                continue;
            }
            Ok(Err(errors)) => {
                let first = &errors[0];
                let message = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                rejected.push(RejectedRow {
                    row: row_number,
                    code: first.code.to_owned(),
                    message,
                });
                continue;
            }
            Ok(Ok(data)) => data,
        };
        let dedup = payment_dedup_key(keys, citizen_id, &data);
        if !seen.insert(dedup.clone()) {
            rejected.push(RejectedRow {
                row: row_number,
                code: "duplicate".into(),
                message: "the same transaction appears earlier in this import".into(),
            });
            continue;
        }
        let id = uuid::Uuid::now_v7().to_string();
        let sealed = seal_record(&dek, citizen_id, &id, cat.name, 1, &data)?;
        accepted.push(Accepted {
            row: row_number,
            id,
            dedup,
            sealed,
        });
    }

    let held = write_transaction(conn, |conn| {
        // Transactions the citizen already holds, looked up for the whole file in chunks.
        let mut held: HashSet<String> = HashSet::new();
        for chunk in accepted.chunks(500) {
            let found: Vec<Option<String>> = vault_records::table
                .filter(vault_records::citizen_id.eq(citizen_id))
                .filter(vault_records::dedup_key.eq_any(chunk.iter().map(|a| a.dedup.clone()).collect::<Vec<_>>()))
                .select(vault_records::dedup_key)
                .load(conn)?;
            held.extend(found.into_iter().flatten());
        }
        let mut imported = 0usize;
        for a in accepted.iter().filter(|a| !held.contains(&a.dedup)) {
            diesel::insert_into(vault_records::table)
                .values((
                    vault_records::id.eq(&a.id),
                    vault_records::citizen_id.eq(citizen_id),
                    vault_records::category.eq(cat.name),
                    vault_records::version.eq(1),
                    vault_records::sealed.eq(&a.sealed),
                    vault_records::dedup_key.eq(&a.dedup),
                    vault_records::created_at.eq(now.naive_utc()),
                    vault_records::updated_at.eq(now.naive_utc()),
                ))
                .execute(conn)?;
            imported += 1;
        }
        // One leaf for the import, with the count: ids and category only, no values.
        let event = AuditEvent::new(Action::RecordsImported, Actor::new("citizen", citizen_id))
            .object("category", cat.name)
            .object("count", &imported.to_string());
        let leaf = append(conn, &event, now)?;
        if imported > 0 {
            let import_ref = infobank_audit::merkle::to_hex(&leaf);
            let paid_for = PaidFor {
                event_leaf: leaf,
                ref_kind: "import",
                ref_id: &import_ref,
            };
            let records_held = crate::records::held_in(conn, citizen_id, cat.name)?;
            pay_entrust(conn, citizen_id, cat.name, records_held, paid_for, now)?;
        }
        Ok::<_, VaultError>(held)
    })?;
    for a in accepted.iter().filter(|a| held.contains(&a.dedup)) {
        rejected.push(RejectedRow {
            row: a.row,
            code: "duplicate".into(),
            message: "this transaction is already in your vault".into(),
        });
    }
    rejected.sort_by_key(|r| r.row);
    let imported = accepted.len() - accepted.iter().filter(|a| held.contains(&a.dedup)).count();
    Ok(ImportOutcome { imported, rejected })
}

struct Accepted {
    row: usize,
    id: String,
    dedup: String,
    sealed: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::{ImportBody, parse_rows};

    /// Rows as the parser sees them: the merchant, or the reason a row was refused.
    fn merchants(csv: &str) -> Vec<Result<String, String>> {
        parse_rows(ImportBody::Csv(csv.as_bytes()))
            .unwrap()
            .into_iter()
            .map(|row| {
                row.map(|object| object["merchant"].as_str().unwrap_or_default().to_owned())
                    .map_err(|rejected| rejected.message)
            })
            .collect()
    }

    #[test]
    fn an_unclosed_quote_spoils_its_own_row_only_whatever_the_line_endings() {
        let header = "date,merchant,amount,currency,method,merchant_category";
        for end in ["\n", "\r\n"] {
            let csv = [
                header,
                "2026-11-01,\"Tully's,420,JPY,card,restaurant",
                "",
                "2026-11-02,\"Mos \"\"Burger\"\"\",650,JPY,card,restaurant",
                "2026-11-03,Starbucks,520,JPY,card,restaurant",
                "2026-11-04,\"Doutor,350,JPY,card,restaurant",
            ]
            .join(end);
            assert_eq!(
                merchants(&csv),
                [
                    Err("unreadable CSV row: a quoted field is not closed".to_owned()),
                    Ok("Mos \"Burger\"".to_owned()),
                    Ok("Starbucks".to_owned()),
                    // The last line has nowhere to run to: its quote swallows the rest of it.
                    Err("unreadable CSV row: 2 fields, expected 6".to_owned()),
                ],
                "line ending {end:?}"
            );
        }
    }
}
