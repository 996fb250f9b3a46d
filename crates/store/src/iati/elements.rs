//! The IATI elements an import keeps whole, stored as one compressed JSON document
//! (`iati_activities.elements`, migration `20261203200000_iati_activity_elements.sql`).
//!
//! The document is the JSON object `{"titles": …, "descriptions": …, …}` with the members of
//! [`NAMES`], each the JSON of the formats crate's model, as a zlib stream. Only the export
//! and the import read it. Packed, the elements of the derived 100 MB file take 28.5 MB
//! instead of 50 MB of JSON text (BENCHMARKS.md, "Import: the elements packed").

use std::cell::RefCell;
use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use meridian_formats::iati::activity::{
    ActivityDate, Budget, Description, DocumentLink, Location, Narrative, ParticipatingOrg,
    RawElement, Recipient, Sector, Transaction,
};
use serde::Deserialize;
use sqlx::Row;

use crate::{Store, StoreError};

/// The document's members, in the order [`pack`] takes them. They are the names of the
/// columns they replace.
pub(crate) const NAMES: [&str; 13] = [
    "titles",
    "descriptions",
    "participating_orgs",
    "activity_dates",
    "recipient_countries",
    "recipient_regions",
    "locations",
    "sectors",
    "budgets",
    "other_transactions",
    "document_links",
    "results",
    "dropped",
];

/// The document, read back. `dropped` (element name → count) is only reported, not exported.
#[derive(Deserialize, Debug)]
pub(super) struct Elements {
    pub(super) titles: Vec<Narrative>,
    pub(super) descriptions: Vec<Description>,
    pub(super) participating_orgs: Vec<ParticipatingOrg>,
    pub(super) activity_dates: Vec<ActivityDate>,
    pub(super) recipient_countries: Vec<Recipient>,
    pub(super) recipient_regions: Vec<Recipient>,
    pub(super) locations: Vec<Location>,
    pub(super) sectors: Vec<Sector>,
    pub(super) budgets: Vec<Budget>,
    pub(super) other_transactions: Vec<Transaction>,
    pub(super) document_links: Vec<DocumentLink>,
    pub(super) results: Vec<RawElement>,
}

/// The stored form of the members' JSON texts, given in [`NAMES`] order. Each text must be
/// one JSON value (as `serde_json` writes them); the object is assembled around them, so
/// nothing is serialized twice.
pub(super) fn pack(parts: [&str; 13]) -> Vec<u8> {
    let size: usize = parts.iter().map(|p| p.len()).sum();
    DEFLATE.with_borrow_mut(|z| {
        *z.get_mut() = Vec::with_capacity(size / 2 + 64);
        let mut write = |bytes: &[u8]| z.write_all(bytes).expect("writing to memory");
        write(b"{");
        for (i, (name, part)) in NAMES.iter().zip(parts).enumerate() {
            if i > 0 {
                write(b",");
            }
            write(b"\"");
            write(name.as_bytes());
            write(b"\":");
            write(part.as_bytes());
        }
        write(b"}");
        // Finishes the stream, hands it back and leaves the compressor reset for the next.
        z.reset(Vec::new()).expect("writing to memory")
    })
}

thread_local! {
    /// The compressor of this thread, reset between documents. A new one allocates and zeroes
    /// its tables (about 300 KB) for documents of a few kilobytes: on the derived file that was
    /// a sixth of the mapping thread's time. Deflate's fastest level (zlib-rs's "quick",
    /// static codes): the elements of the derived 100 MB file pack to 57 % (28.5 MB). Level 2
    /// packs them to 42 % for ~0.4 s more CPU on the mapping thread, and the import was no
    /// faster with it.
    static DEFLATE: RefCell<ZlibEncoder<Vec<u8>>> =
        RefCell::new(ZlibEncoder::new(Vec::new(), Compression::fast()));
}

/// Reads a stored document; `what` names the row in the error.
pub(super) fn unpack(bytes: &[u8], what: &str) -> Result<Elements, StoreError> {
    serde_json::from_slice(&inflate(bytes, what)?)
        .map_err(|e| StoreError::Corrupt(format!("iati_activities.elements of {what}: {e}")))
}

/// The document's JSON text.
pub(crate) fn inflate(bytes: &[u8], what: &str) -> Result<Vec<u8>, StoreError> {
    let mut json = Vec::with_capacity(bytes.len() * 3);
    ZlibDecoder::new(bytes)
        .read_to_end(&mut json)
        .map_err(|e| StoreError::Corrupt(format!("iati_activities.elements of {what}: {e}")))?;
    Ok(json)
}

/// Once per database: packs the thirteen JSON columns of the activities imported before the
/// migration into `elements`, then drops the columns. One transaction: a crash leaves the
/// old columns as they were, and the next start does it again.
pub(crate) async fn backfill(store: &Store) -> Result<(), StoreError> {
    const NAME: &str = "iati_activity_elements";
    const ROWS: i64 = 1_000;
    let Some(mut tx) = store.begin_backfill(NAME).await? else {
        return Ok(());
    };
    // A database created after the migration has `elements` only; nothing to do.
    let sql = match store.backend() {
        crate::Backend::Sqlite => {
            "SELECT COUNT(*) AS n FROM pragma_table_info('iati_activities') WHERE name = $1"
        }
        crate::Backend::Postgres => {
            "SELECT COUNT(*) AS n FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = 'iati_activities' \
             AND column_name = $1"
        }
    };
    let old: i64 = sqlx::query(sql)
        .bind(NAMES[0])
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
    if old == 0 {
        tx.commit().await?;
        return Ok(());
    }
    let columns = NAMES.join(", ");
    let mut after = String::new();
    let mut total = 0usize;
    loop {
        let sql = format!(
            "SELECT project_id, {columns} FROM iati_activities WHERE project_id > $1 \
             ORDER BY project_id LIMIT {ROWS}"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&after)
            .fetch_all(&mut *tx)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("project_id")?;
        for r in &rows {
            let mut texts: Vec<String> = Vec::with_capacity(NAMES.len());
            for name in NAMES {
                texts.push(r.try_get(name)?);
            }
            let parts: [&str; 13] =
                std::array::from_fn(|i| texts.get(i).map_or("", String::as_str));
            let id: String = r.try_get("project_id")?;
            sqlx::query("UPDATE iati_activities SET elements = $1 WHERE project_id = $2")
                .bind(pack(parts))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        total += rows.len();
    }
    for name in NAMES {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE iati_activities DROP COLUMN {name}"
        )))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    if total > 0 {
        tracing::info!(
            activities = total,
            "packed the IATI elements of the imported activities (iati_activities.elements)"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_document_reads_back() {
        let parts = [
            r#"[{"lang":"fr","text":"Titre"}]"#,
            "[]",
            "[]",
            "[]",
            "[]",
            "[]",
            "[]",
            "[]",
            "[]",
            "[]",
            "[]",
            "[]",
            r#"{"conditions":2}"#,
        ];
        let packed = pack(parts);
        assert_eq!(&packed[..1], b"\x78", "a zlib stream");
        let e = unpack(&packed, "test").expect("reads back");
        assert_eq!(e.titles.len(), 1);
        assert_eq!(e.titles[0].text, "Titre");
        assert_eq!(e.titles[0].lang.as_deref(), Some("fr"));
        // The thread's compressor, reset, packs the next document as a new one would.
        let again = pack(parts);
        assert_eq!(again, packed);
        let mut fresh = ZlibEncoder::new(Vec::new(), Compression::fast());
        fresh.write_all(&inflate(&packed, "test").unwrap()).unwrap();
        assert_eq!(fresh.finish().unwrap(), packed);
        let broken = unpack(&packed[..packed.len() / 2], "US-1");
        let message = broken.expect_err("a cut stream is refused").to_string();
        assert!(
            message.contains("iati_activities.elements of US-1"),
            "{message}"
        );
    }
}
