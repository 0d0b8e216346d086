//! The log as an export: one JSON line per entry ([`EntryDoc`]: index, leaf, leaf hash), the
//! format `infobank audit verify --log` and the evidence bundle's verifier read.

use std::io::Write;

use infobank_db::DbConnection;

use crate::AuditError;
use crate::verifier::{EntryDoc, b64};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error("writing the export: {0}")]
    Write(#[from] std::io::Error),
    #[error("encoding an entry: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Writes entries `0..tree_size` to `out`, a page at a time, calling `progress` with the number
/// of entries each page added.
pub fn write_entries(
    conn: &mut DbConnection,
    tree_size: u64,
    out: &mut impl Write,
    mut progress: impl FnMut(u64),
) -> Result<(), ExportError> {
    let mut start = 0;
    while start < tree_size {
        let end = (start + crate::log::MAX_PAGE).min(tree_size);
        for e in crate::log::entries(conn, start, end)? {
            let line = serde_json::to_string(&EntryDoc {
                index: e.index,
                leaf: e.leaf,
                leaf_hash: b64(&e.leaf_hash),
            })?;
            writeln!(out, "{line}")?;
        }
        progress(end - start);
        start = end;
    }
    Ok(())
}
