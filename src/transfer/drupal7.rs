//! Drupal 7 comments: the `comment` table joined with
//! `field_data_comment_body`, as CSV (with a header row) or JSON (an array
//! of objects, or one object per line), e.g. from
//!
//! ```sql
//! SELECT c.cid, c.pid, c.nid, c.subject, c.name, c.mail, c.homepage, c.hostname,
//!        c.created, c.status, c.thread, b.comment_body_value, b.comment_body_format
//! FROM comment c JOIN field_data_comment_body b
//!   ON b.entity_id = c.cid AND b.entity_type = 'comment';
//! ```
//!
//! Drupal's `filtered_html` and `plain_text` formats are ours, byte for
//! byte, so imported comments render as they did; another format id is
//! used if a policy of that id exists. Threads are keyed `node/NID` (or
//! `NID` with `--thread-key id`). Subjects are not kept: comments here have
//! no title.

use std::fs::File;
use std::io::{BufRead, BufReader};

use serde::de::{DeserializeSeed, Error as _, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::comment::Status;

use super::wordpress::stopped;
use super::{
    seconds_to_ms, ImportError, Item, ParentRef, ParseContext, Place, RawComment, Sink, Stop,
    ThreadKeyFrom,
};

/// Columns a record cannot do without.
const REQUIRED: [&str; 5] = ["cid", "nid", "created", "status", "comment_body_value"];

/// Reads a CSV or JSON file of Drupal 7 comments.
pub(super) fn parse(ctx: &ParseContext, sink: &mut Sink<'_>) -> Result<(), ImportError> {
    let mut file = BufReader::new(File::open(&ctx.path).map_err(|e| ctx.unreadable(e))?);
    let first = loop {
        let buf = file.fill_buf().map_err(|e| ctx.unreadable(e))?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => break Some(buf[i]),
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                file.consume(n);
            }
        }
    };
    match first {
        None => Err(ctx.malformed(1, "the file is empty")),
        Some(b'[') => parse_json_array(ctx, file, sink),
        Some(b'{') => parse_json_lines(ctx, file, sink),
        Some(_) => parse_csv(ctx, sink),
    }
}

fn parse_csv(ctx: &ParseContext, sink: &mut Sink<'_>) -> Result<(), ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_path(&ctx.path)
        .map_err(|e| ctx.unreadable(e))?;
    let csv_error = |e: csv::Error| {
        let line = e.position().map_or(1, csv::Position::line);
        match e.kind() {
            csv::ErrorKind::Io(io) => ctx.unreadable(io),
            csv::ErrorKind::Utf8 { .. } => ctx.not_utf8(line),
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => ctx.malformed(
                line,
                format!("this row has {len} fields; the header has {expected_len}"),
            ),
            _ => ctx.malformed(line, format!("malformed CSV: {e}")),
        }
    };
    let headers: Vec<String> = reader
        .headers()
        .map_err(csv_error)?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    for required in REQUIRED {
        if !headers.iter().any(|h| h == required) {
            return Err(ctx.malformed(
                1,
                format!(
                    "the header has no `{required}` column (it needs {})",
                    REQUIRED.join(", ")
                ),
            ));
        }
    }
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(e)),
        }
        let line = record.position().map_or(1, csv::Position::line);
        let get = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
                .filter(|v| *v != "\\N")
                .map(str::to_owned)
        };
        emit(ctx, Place::Line(line), get, sink).map_err(|Stop| stopped())?;
    }
    Ok(())
}

fn json_field(obj: &Map<String, Value>, name: &str) -> Option<String> {
    match obj.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_owned()),
        _ => None,
    }
}

fn parse_json_lines(
    ctx: &ParseContext,
    file: BufReader<File>,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    for (n, line) in file.lines().enumerate() {
        let number = n as u64 + 1;
        let line = line.map_err(|e| ctx.line_unread(number, &e))?;
        if line.trim().is_empty() {
            continue;
        }
        let obj: Map<String, Value> = serde_json::from_str(&line)
            .map_err(|e| ctx.malformed(number, format!("expected a JSON object: {e}")))?;
        check_columns(ctx, number, &obj)?;
        emit(ctx, Place::Line(number), |k| json_field(&obj, k), sink).map_err(|Stop| stopped())?;
    }
    Ok(())
}

fn check_columns(
    ctx: &ParseContext,
    line: u64,
    obj: &Map<String, Value>,
) -> Result<(), ImportError> {
    for required in REQUIRED {
        if !obj.contains_key(required) {
            return Err(ctx.malformed(
                line,
                format!(
                    "the record has no `{required}` field (each needs {})",
                    REQUIRED.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Calls back for each object of a JSON array as it is read, so the array
/// never sits in memory whole.
struct EachObject<'a, F>(&'a mut F);

impl<'de, F> DeserializeSeed<'de> for EachObject<'_, F>
where
    F: FnMut(Map<String, Value>) -> Result<(), String>,
{
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F> Visitor<'de> for EachObject<'_, F>
where
    F: FnMut(Map<String, Value>) -> Result<(), String>,
{
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of comment objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(obj) = seq.next_element::<Map<String, Value>>()? {
            (self.0)(obj).map_err(A::Error::custom)?;
        }
        Ok(())
    }
}

/// Marks the custom error that stops the array walk early.
const STOPPED: &str = "\u{0}stopped";

fn parse_json_array(
    ctx: &ParseContext,
    file: BufReader<File>,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    let mut n = 0u64;
    let mut each = |obj: Map<String, Value>| {
        n += 1;
        if let Some(required) = REQUIRED.iter().find(|r| !obj.contains_key(**r)) {
            return Err(format!(
                "record {n} has no `{required}` field (each needs {})",
                REQUIRED.join(", ")
            ));
        }
        emit(
            ctx,
            Place::Row(format!("record {n}")),
            |k| json_field(&obj, k),
            sink,
        )
        .map_err(|Stop| STOPPED.to_owned())
    };
    let mut de = serde_json::Deserializer::from_reader(file);
    let walked = EachObject(&mut each)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    match walked {
        Ok(()) => Ok(()),
        Err(e) if e.to_string().starts_with(STOPPED) => Err(stopped()),
        Err(e) if e.is_io() => Err(ctx.unreadable(e)),
        Err(e) => {
            let message = e.to_string();
            let message = match message.split_once(" at line ") {
                Some((m, _)) => m.to_owned(),
                None => message,
            };
            let message = if e.is_syntax() || e.is_eof() {
                format!("malformed JSON: {message}")
            } else {
                message
            };
            Err(ctx.malformed(e.line().max(1) as u64, message))
        }
    }
}

/// One record, whatever the file's shape; `get` reads a column.
fn emit(
    ctx: &ParseContext,
    place: Place,
    get: impl Fn(&str) -> Option<String>,
    sink: &mut Sink<'_>,
) -> Result<(), Stop> {
    let cid = get("cid").map(|s| s.trim().to_owned()).unwrap_or_default();
    let source = (!cid.is_empty()).then(|| format!("drupal7:{cid}"));
    let skip = |reason: String| Item::Skip {
        place: place.clone(),
        source: source.clone(),
        reason,
    };
    if cid.parse::<u64>().is_err() {
        return sink(skip(format!("cid `{cid}` is not a number")));
    }
    let nid = get("nid").map(|s| s.trim().to_owned()).unwrap_or_default();
    if nid.parse::<u64>().is_err() {
        return sink(skip(format!("nid `{nid}` is not a number")));
    }
    let thread = match ctx.thread_key {
        ThreadKeyFrom::Id => nid,
        ThreadKeyFrom::Permalink | ThreadKeyFrom::Path => format!("node/{nid}"),
    };
    let status = match get("status").as_deref().map(str::trim) {
        Some("1") => Status::Published,
        Some("0") => Status::Pending,
        other => {
            return sink(skip(format!(
                "status `{}` is not 1 (published) or 0 (unpublished)",
                other.unwrap_or("")
            )))
        }
    };
    let created = get("created").unwrap_or_default();
    let Some(created) = created.trim().parse::<f64>().ok().and_then(seconds_to_ms) else {
        return sink(skip(format!("created `{created}` is not a Unix time")));
    };
    let parent = match get("pid").as_deref().map(str::trim) {
        None | Some("" | "0") => ParentRef::None,
        Some(p) if p.parse::<u64>().is_ok() => ParentRef::Source(format!("drupal7:{p}")),
        Some(p) => return sink(skip(format!("pid `{p}` is not a number"))),
    };
    let format = get("comment_body_format")
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty());
    let modified = get("changed")
        .and_then(|c| c.trim().parse::<f64>().ok())
        .and_then(seconds_to_ms)
        .filter(|&m| m > created);
    sink(Item::Comment(Box::new(RawComment {
        place,
        source,
        keep_id: None,
        thread,
        parent,
        status,
        format,
        body: get("comment_body_value").unwrap_or_default(),
        author: get("name"),
        email: get("mail"),
        homepage: get("homepage"),
        ip: get("hostname"),
        ip_hash: None,
        created,
        modified,
    })))
}
