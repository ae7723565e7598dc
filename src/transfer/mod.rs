//! Moving a site's comments in and out: imports from WordPress (WXR),
//! Disqus (XML), Drupal 7 (CSV or JSON), Isso (SQLite) and our own export,
//! and exports as JSON Lines or WXR.
//!
//! An import reads its file twice. The first pass only checks that the file
//! is well-formed and counts the comments, so a malformed file changes
//! nothing and the progress bar knows its length. The second pass parses
//! again on a blocking thread, cleans and renders each comment through its
//! format's policy, and hands batches to the store, which writes each in
//! one transaction. Every imported comment keeps its source id
//! (`wordpress:123`), so running the same import again adds nothing.
//! Replies are linked to their parents by source id once every comment is
//! in, so the order of the file does not matter and memory stays bounded.

mod prepare;
mod records;
mod run;

pub(crate) use prepare::*;
pub(crate) use records::*;
pub use run::*;

use crate::comment::Status;
use crate::error::Error;
use std::fmt;

mod disqus;
mod drupal7;
pub mod export;
mod isso;
mod native;
mod wordpress;
mod xml;

/// The systems an import reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A WordPress WXR export (also our own `--format wxr` export).
    Wordpress,
    /// A Disqus XML export.
    Disqus,
    /// Drupal 7's `comment` and `field_data_comment_body` columns, as CSV
    /// or JSON.
    Drupal7,
    /// An Isso SQLite database.
    Isso,
    /// Our own JSON Lines export.
    Colloquy,
}

impl Kind {
    /// Every kind, in the order the CLI lists them.
    pub const ALL: [Kind; 5] = [
        Kind::Wordpress,
        Kind::Disqus,
        Kind::Drupal7,
        Kind::Isso,
        Kind::Colloquy,
    ];

    /// The kind's name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Wordpress => "wordpress",
            Kind::Disqus => "disqus",
            Kind::Drupal7 => "drupal7",
            Kind::Isso => "isso",
            Kind::Colloquy => "colloquy",
        }
    }

    /// Parses a kind's name.
    ///
    /// # Errors
    /// An unknown name; the message lists the known ones.
    pub fn parse(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown source `{s}`; choose one of: {}", known.join(", "))
            })
    }

    /// The format comments of this kind are stored in unless the record
    /// names one: the closest of ours to how the old system treated them.
    fn default_format(self) -> &'static str {
        match self {
            // Both store comments as HTML from a short whitelist, with line
            // breaks turned into paragraphs when shown.
            Kind::Wordpress | Kind::Disqus => "filtered_html",
            // Isso stores the Markdown the commenter typed.
            Kind::Isso => "markdown",
            Kind::Drupal7 | Kind::Colloquy => "filtered_html",
        }
    }
}

/// What an imported thread is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThreadKeyFrom {
    /// The article's permalink as the export gives it.
    #[default]
    Permalink,
    /// The path of the permalink (`/2024/01/hello/`), for a site that
    /// moved domains.
    Path,
    /// The old system's id of the article (post id, Disqus identifier,
    /// Drupal node id).
    Id,
}

impl ThreadKeyFrom {
    /// Parses `permalink`, `path` or `id`.
    ///
    /// # Errors
    /// Anything else.
    pub fn parse(s: &str) -> Result<ThreadKeyFrom, String> {
        match s {
            "permalink" => Ok(ThreadKeyFrom::Permalink),
            "path" => Ok(ThreadKeyFrom::Path),
            "id" => Ok(ThreadKeyFrom::Id),
            _ => Err(format!(
                "unknown thread key `{s}`; choose one of: permalink, path, id"
            )),
        }
    }

    /// The key for an article with this permalink and id: the preferred
    /// one, else whichever exists.
    fn pick(self, permalink: Option<&str>, id: Option<&str>) -> Option<String> {
        let permalink = permalink.map(str::trim).filter(|s| !s.is_empty());
        let id = id.map(str::trim).filter(|s| !s.is_empty());
        let path = || {
            permalink.map(|p| match url::Url::parse(p) {
                Ok(u) if u.has_host() => match u.query() {
                    Some(q) => format!("{}?{q}", u.path()),
                    None => u.path().to_owned(),
                },
                _ => p.to_owned(),
            })
        };
        match self {
            ThreadKeyFrom::Permalink => permalink.map(str::to_owned).or(id.map(str::to_owned)),
            ThreadKeyFrom::Path => path().or(id.map(str::to_owned)),
            ThreadKeyFrom::Id => id.map(str::to_owned).or_else(path),
        }
    }
}

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The system the file comes from.
    pub kind: Kind,
    /// What threads are keyed by.
    pub thread_key: ThreadKeyFrom,
    /// Store every comment in this format instead of the kind's default
    /// (or the format a Drupal record names).
    pub format: Option<String>,
}

/// Comments per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// Published.
    pub published: u64,
    /// Waiting for moderation.
    pub pending: u64,
    /// Spam.
    pub spam: u64,
    /// Trash.
    pub trash: u64,
}

impl StatusCounts {
    fn add(&mut self, s: Status) {
        match s {
            Status::Published => self.published += 1,
            Status::Pending => self.pending += 1,
            Status::Spam => self.spam += 1,
            Status::Trash => self.trash += 1,
        }
    }

    /// All of them.
    pub fn total(&self) -> u64 {
        self.published + self.pending + self.spam + self.trash
    }
}

/// A record that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Where it is: `file:line` or `file: row`.
    pub place: String,
    /// Its id in the old system, when it has one.
    pub source: Option<String>,
    /// Why it was skipped, and what would make it import.
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(s) => write!(f, "{}: {s}: {}", self.place, self.reason),
            None => write!(f, "{}: {}", self.place, self.reason),
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Comment records read from the file.
    pub read: u64,
    /// Comments stored by this run, per status.
    pub imported: StatusCounts,
    /// Comments an earlier run had already stored.
    pub already: u64,
    /// Distinct threads the imported comments belong to.
    pub threads: u64,
    /// Records not imported, with the reason.
    pub skipped: Vec<Skipped>,
    /// Things done that a person should know about (fields dropped,
    /// replies whose parent is missing, formats the site does not offer).
    pub notes: Vec<String>,
}

/// Why an import failed before storing anything.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not what its kind says: names the place.
    #[error("{file}:{line}: {message}")]
    Malformed {
        /// The file.
        file: String,
        /// The line (1-based).
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The file cannot be read.
    #[error("{file}: {message}")]
    Unreadable {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
    /// The service refused (unknown site or format) or the database failed.
    #[error("{0}")]
    Service(#[from] Error),
}

/// Where a record sits in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Place {
    /// A line of a text file.
    Line(u64),
    /// A row of a database table.
    Row(String),
}

impl Place {
    fn show(&self, file: &str) -> String {
        match self {
            Place::Line(n) => format!("{file}:{n}"),
            Place::Row(r) => format!("{file}: {r}"),
        }
    }
}

/// What a file that is not UTF-8 is told.
pub(crate) const NOT_UTF8: &str = "the file is not UTF-8 text; convert it to UTF-8 first";

/// Runs the parser for `kind` over the file, sending every item to `sink`.
fn parse(kind: Kind, ctx: &ParseContext, sink: &mut Sink<'_>) -> Result<(), ImportError> {
    match kind {
        Kind::Wordpress => wordpress::parse(ctx, sink),
        Kind::Disqus => disqus::parse(ctx, sink),
        Kind::Drupal7 => drupal7::parse(ctx, sink),
        Kind::Isso => isso::parse(ctx, sink),
        Kind::Colloquy => native::parse(ctx, sink),
    }
}

/// Comments per batch handed to the store (one transaction each).
const BATCH: usize = 2000;

impl From<crate::store::StoreError> for ImportError {
    fn from(e: crate::store::StoreError) -> ImportError {
        ImportError::Service(Error::from(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_keys_prefer_what_was_asked_and_fall_back() {
        let link = Some("https://blog.example/2024/01/hello/?p=5");
        assert_eq!(
            ThreadKeyFrom::Permalink.pick(link, Some("5")).as_deref(),
            link
        );
        assert_eq!(
            ThreadKeyFrom::Path.pick(link, Some("5")).as_deref(),
            Some("/2024/01/hello/?p=5")
        );
        assert_eq!(
            ThreadKeyFrom::Id.pick(link, Some("5")).as_deref(),
            Some("5")
        );
        assert_eq!(
            ThreadKeyFrom::Permalink
                .pick(Some("  "), Some("7"))
                .as_deref(),
            Some("7")
        );
        assert_eq!(ThreadKeyFrom::Id.pick(None, None), None);
    }

    #[test]
    fn dates_of_each_system_parse_to_milliseconds() {
        assert_eq!(
            sql_datetime_to_ms("2023-11-14 22:13:20"),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            rfc3339_to_ms("2023-11-14T22:13:20.123Z"),
            Some(1_700_000_000_123)
        );
        assert_eq!(
            rfc3339_to_ms("2023-11-15T00:13:20+02:00"),
            Some(1_700_000_000_000)
        );
        assert_eq!(seconds_to_ms(1_700_000_000.5), Some(1_700_000_000_500));
        assert_eq!(sql_datetime_to_ms("0000-00-00 00:00:00"), None);
        assert_eq!(seconds_to_ms(f64::NAN), None);
        assert_eq!(seconds_to_ms(-1.0), None);
    }

    #[test]
    fn field_values_lose_control_characters_and_length() {
        assert_eq!(one_line(" Ann\n\u{7}Lee ", 100), "Ann  Lee");
        assert_eq!(one_line("ééééé", 3), "ééé");
    }
}
