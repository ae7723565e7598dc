//! What the parsers hand on, in file order: threads, comments, a site's
//! settings, each with the place in the file it came from.

use super::*;
use crate::comment::{Status, ThreadState};
use std::fmt;
use std::path::PathBuf;

/// The comment a record replies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParentRef {
    /// None: a top-level comment.
    None,
    /// The parent's source id (`wordpress:12`).
    Source(String),
    /// The parent's id in our own export.
    Id(i64),
}

/// A thread as a parser reads it.
#[derive(Debug, Clone)]
pub(crate) struct RawThread {
    pub(crate) key: String,
    pub(crate) title: Option<String>,
    pub(crate) state: ThreadState,
    pub(crate) created: Option<i64>,
}

/// A comment as a parser reads it, before cleaning and rendering.
#[derive(Debug, Clone)]
pub(crate) struct RawComment {
    pub(crate) place: Place,
    pub(crate) source: Option<String>,
    /// Our own export: the id to keep.
    pub(crate) keep_id: Option<i64>,
    pub(crate) thread: String,
    pub(crate) parent: ParentRef,
    pub(crate) status: Status,
    /// The format the record names; the kind's default when `None`.
    pub(crate) format: Option<String>,
    pub(crate) body: String,
    pub(crate) author: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) homepage: Option<String>,
    /// A raw IP address; stored only as its keyed hash.
    pub(crate) ip: Option<String>,
    /// An IP hash from our own export.
    pub(crate) ip_hash: Option<String>,
    pub(crate) created: i64,
    pub(crate) modified: Option<i64>,
}

/// A site's settings as our export carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExportedSettings {
    pub(crate) formats: Vec<String>,
    pub(crate) default_format: String,
    pub(crate) moderation: crate::moderation::ModerationMode,
    pub(crate) hold_links: u32,
    pub(crate) duplicate_window_secs: u32,
    pub(crate) rules: crate::moderation::SiteRules,
}

/// What a parser hands on, in file order.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    /// The exporting site's settings (our own export).
    Site(ExportedSettings),
    /// A thread (before or with its first comment).
    Thread(RawThread),
    /// A comment.
    Comment(Box<RawComment>),
    /// A record that cannot be imported.
    Skip {
        place: Place,
        source: Option<String>,
        reason: String,
    },
}

/// The consumer went away (the import failed elsewhere): stop parsing.
#[derive(Debug)]
pub(crate) struct Stop;

/// Where parsers send items.
pub(crate) type Sink<'a> = dyn FnMut(Item) -> Result<(), Stop> + 'a;

/// What a parser needs besides the file.
#[derive(Debug, Clone)]
pub(crate) struct ParseContext {
    pub(crate) path: PathBuf,
    /// The file's name as messages show it.
    pub(crate) file: String,
    pub(crate) thread_key: ThreadKeyFrom,
}

impl ParseContext {
    pub(crate) fn malformed(&self, line: u64, message: impl Into<String>) -> ImportError {
        ImportError::Malformed {
            file: self.file.clone(),
            line,
            message: message.into(),
        }
    }

    pub(crate) fn unreadable(&self, message: impl fmt::Display) -> ImportError {
        ImportError::Unreadable {
            file: self.file.clone(),
            message: message.to_string(),
        }
    }

    /// The file is not UTF-8 at `line`.
    pub(crate) fn not_utf8(&self, line: u64) -> ImportError {
        self.malformed(line, NOT_UTF8)
    }

    /// A line of a line-based file could not be read.
    pub(crate) fn line_unread(&self, line: u64, e: &std::io::Error) -> ImportError {
        if e.kind() == std::io::ErrorKind::InvalidData {
            self.not_utf8(line)
        } else {
            self.unreadable(e)
        }
    }
}

/// Seconds (possibly fractional) since the epoch, as milliseconds.
pub(crate) fn seconds_to_ms(s: f64) -> Option<i64> {
    let ms = (s * 1000.0).round();
    (ms.is_finite() && (0.0..9.0e15).contains(&ms)).then_some(ms as i64)
}

/// `2024-01-31T12:00:00Z` (or with an offset, or fractional seconds) as
/// milliseconds.
pub(crate) fn rfc3339_to_ms(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// WordPress's `2024-01-31 12:00:00` (UTC) as milliseconds.
pub(crate) fn sql_datetime_to_ms(s: &str) -> Option<i64> {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let t = time::PrimitiveDateTime::parse(s.trim(), &f).ok()?;
    i64::try_from(t.assume_utc().unix_timestamp_nanos() / 1_000_000).ok()
}
