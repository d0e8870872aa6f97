//! `timesync import FILE`: restores an export document into an empty
//! database, in one transaction.
//!
//! The document is parsed on a blocking thread, table array by table array,
//! element by element; rows travel over a bounded channel to the inserting
//! task, so memory stays bounded whatever the size of the file.

use std::fmt;
use std::io::Read;

use anyhow::{anyhow, bail, Context};
use sea_orm::Value;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value as Json};
use tokio::sync::mpsc;

use super::{BatchInsert, ColumnInfo, ColumnKind, Table, FORMAT, VERSION};
use crate::progress::Progress;
use crate::storage::{Db, Tx};

/// Rows inserted per table, in the order the tables came.
pub type Counts = Vec<(Table, u64)>;

/// What the parser hands to the inserter.
enum Message {
    Row(Table, Map<String, Json>),
    /// The whole document was read and is well formed.
    End,
}

/// Reads an export document from `input` into `db`, which must be empty
/// (migrated, without users or objects). All or nothing. `progress` names
/// the table being inserted (the caller counts the bytes read).
pub async fn import(
    db: &Db,
    input: impl Read + Send + 'static,
    progress: &Progress,
) -> anyhow::Result<Counts> {
    db.load(
        |stage| progress.set_stage(stage),
        |tx| fill(tx, input, progress),
    )
    .await
}

/// Inserts the rows of the document in `tx`, table by table.
async fn fill(
    tx: Tx,
    input: impl Read + Send + 'static,
    progress: &Progress,
) -> anyhow::Result<Counts> {
    let tx = &tx;
    super::ensure_empty(tx).await?;

    let (sender, mut receiver) = mpsc::channel::<Message>(1024);
    let parser = tokio::task::spawn_blocking(move || parse(input, sender));

    let mut counts: Counts = Vec::new();
    let mut current: Option<BatchInsert> = None;
    let mut complete = false;
    let inserted: anyhow::Result<()> = async {
        while let Some(message) = receiver.recv().await {
            match message {
                Message::Row(table, object) => {
                    if current.as_ref().map(|b| b.table) != Some(table) {
                        if let Some(mut done) = current.take() {
                            done.flush(tx).await?;
                            counts.push((done.table, done.count));
                        }
                        current = Some(BatchInsert::new(table));
                        progress.set_stage(table.name());
                    }
                    let batch = current.as_mut().expect("set above");
                    let row = to_values(table, batch.columns(), batch.count + 1, object)?;
                    batch.push(tx, row).await?;
                }
                Message::End => complete = true,
            }
        }
        if let Some(mut done) = current.take() {
            done.flush(tx).await?;
            counts.push((done.table, done.count));
        }
        Ok(())
    }
    .await;
    // Stop the parser early when inserting failed (its sends then fail).
    drop(receiver);
    let parsed = parser
        .await
        .map_err(|e| anyhow!("the parser failed: {e}"))?;
    // An insert error explains a stopped parser, so it goes first.
    inserted?;
    parsed.context("reading the export document")?;
    if !complete {
        bail!("the export document ended early");
    }
    Ok(counts)
}

/// Converts one row object to values in column order, strictly: every
/// column present, no unknown field, each of its column's type.
fn to_values(
    table: Table,
    columns: &[ColumnInfo],
    position: u64,
    mut object: Map<String, Json>,
) -> anyhow::Result<Vec<Value>> {
    let at = || format!("{} row {position}", table.name());
    let mut values = Vec::with_capacity(columns.len());
    for column in columns {
        let json = object
            .remove(column.name)
            .ok_or_else(|| anyhow!("{}: the field {} is missing", at(), column.name))?;
        values.push(
            to_value(column.kind, json)
                .with_context(|| format!("{}: field {}", at(), column.name))?,
        );
    }
    if let Some(unknown) = object.keys().next() {
        bail!("{}: unknown field {unknown}", at());
    }
    Ok(values)
}

fn to_value(kind: ColumnKind, json: Json) -> anyhow::Result<Value> {
    if json.is_null() {
        return Ok(kind.null());
    }
    let wrong = || anyhow!("{json} is not a valid {kind:?} value");
    Ok(match kind {
        ColumnKind::BigInt => Value::BigInt(Some(json.as_i64().ok_or_else(wrong)?)),
        ColumnKind::Int => Value::Int(Some(
            json.as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(wrong)?,
        )),
        ColumnKind::Bool => Value::Bool(Some(json.as_bool().ok_or_else(wrong)?)),
        ColumnKind::Text => Value::String(Some(json.as_str().ok_or_else(wrong)?.to_owned())),
        ColumnKind::Date => Value::ChronoDate(Some(
            json.as_str()
                .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .ok_or_else(wrong)?,
        )),
    })
}

/// Parses the document, sending rows as they are read.
fn parse(input: impl Read, sender: mpsc::Sender<Message>) -> anyhow::Result<()> {
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(input));
    DocumentSeed { sender: &sender }
        .deserialize(&mut de)
        .map_err(|e| anyhow!("{e}"))?;
    de.end().map_err(|e| anyhow!("{e}"))?;
    // The inserter may have stopped already; it then reports its own error.
    let _ = sender.blocking_send(Message::End);
    Ok(())
}

struct DocumentSeed<'a> {
    sender: &'a mpsc::Sender<Message>,
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a {FORMAT} document (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (mut format_ok, mut version_ok, mut tables_seen) = (false, false, false);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => {
                    let format: String = map.next_value()?;
                    if format != FORMAT {
                        return Err(de::Error::custom(format!(
                            "this is not a {FORMAT} document (format {format:?})"
                        )));
                    }
                    format_ok = true;
                }
                "version" => {
                    let version: u64 = map.next_value()?;
                    if version != VERSION {
                        return Err(de::Error::custom(format!(
                            "export format version {version} is not supported (this build reads version {VERSION})"
                        )));
                    }
                    version_ok = true;
                }
                "tables" => {
                    if !(format_ok && version_ok) {
                        return Err(de::Error::custom(
                            "\"format\" and \"version\" must come before \"tables\"",
                        ));
                    }
                    map.next_value_seed(TablesSeed {
                        sender: self.sender,
                    })?;
                    tables_seen = true;
                }
                other => {
                    let _: IgnoredAny = map.next_value()?;
                    return Err(de::Error::custom(format!("unknown field {other:?}")));
                }
            }
        }
        if !tables_seen {
            return Err(de::Error::custom("the document has no \"tables\""));
        }
        Ok(())
    }
}

struct TablesSeed<'a> {
    sender: &'a mpsc::Sender<Message>,
}

impl<'de> DeserializeSeed<'de> for TablesSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TablesSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of tables")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Tables must come in foreign-key order, each once.
        let mut next_allowed = 0usize;
        while let Some(name) = map.next_key::<String>()? {
            let table = Table::from_name(&name)
                .ok_or_else(|| de::Error::custom(format!("unknown table {name:?}")))?;
            let index = Table::ALL.iter().position(|t| *t == table).unwrap_or(0);
            if index < next_allowed {
                return Err(de::Error::custom(format!(
                    "table {name:?} is repeated or out of order"
                )));
            }
            next_allowed = index + 1;
            map.next_value_seed(RowsSeed {
                table,
                sender: self.sender,
            })?;
        }
        Ok(())
    }
}

struct RowsSeed<'a> {
    table: Table,
    sender: &'a mpsc::Sender<Message>,
}

impl<'de> DeserializeSeed<'de> for RowsSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an array of {} rows", self.table.name())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(row) = seq.next_element::<Map<String, Json>>()? {
            self.sender
                .blocking_send(Message::Row(self.table, row))
                .map_err(|_| de::Error::custom("the import stopped"))?;
        }
        Ok(())
    }
}
